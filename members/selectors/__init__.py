"""Reads for the directory, lists and invitations, always given the organization."""
