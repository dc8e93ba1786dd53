"""Reconciliation of local figures with the pre-deadline extract and the published file."""
