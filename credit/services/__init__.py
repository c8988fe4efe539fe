"""Writes for the ledger, purchases, allocations and rules, one module each."""
