"""The waits family (shared/spec/waits.md): the four-week waits MRS01-MRS14f and the CYP
referral-to-first-contact measures MHS130-MHS135, computed the way NHS England's code does for
the reporting month's rule regime."""

from recon.measures.waits.compute import compute
from recon.measures.waits.definitions import MEASURES, NOT_COMPUTED

__all__ = ["MEASURES", "NOT_COMPUTED", "compute"]
