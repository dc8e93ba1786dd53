"""Reconciliation of local figures with the pre-deadline extract and the published file."""

from recon.reconcile.run import reconcile_json, run_reconcile

__all__ = ["reconcile_json", "run_reconcile"]
