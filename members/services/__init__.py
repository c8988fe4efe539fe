"""Writes for members, lists, invitations and imports, one module each."""
