"""Views of the credit app, one module per screen family."""
