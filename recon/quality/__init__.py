"""Data quality before the deadline: national validation predicted, SDCS reports read, VODIM and DQMI.

- :mod:`recon.quality.national`, :mod:`recon.quality.logic`, :mod:`recon.quality.predict`:
  the MHSDS v6 rules SDCS applies, evaluated on M's submission (quality.md 1);
- :mod:`recon.quality.reports`, :mod:`recon.quality.submission`: SDCS Summary Reports (2);
- :mod:`recon.quality.vodim`: NHS England's VODIM and a DQMI estimate (3);
- :mod:`recon.quality.outcome`: the one result every renderer reads.
"""
