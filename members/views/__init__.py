"""Views of the members app, one module per screen family."""
