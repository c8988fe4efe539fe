"""Reads for balances, history and purchases, always given the organization."""
