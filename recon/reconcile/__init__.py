"""Reconciliation of local figures with the pre-deadline extract and the published file.

``recon.reconcile.run.run_reconcile`` is the entry point. This ``__init__`` imports nothing (the
register imports modules of this package's neighbours; eager re-exports would make cycles).
"""
