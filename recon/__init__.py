"""recon: MHSDS CYP measures, pre-deadline sign-off and monthly reconciliation."""

__version__ = "0.1.0"
