"""Measures of measures.md, computed as polars lazy plans, family by family.

``recon.measures.engine.compute_measures`` / ``run_measures`` run every family of the register
(:mod:`recon.register`); ``recon.measures.catalog.catalog()`` names, describes and orders every
measure (rules/measures.toml). This package's ``__init__`` imports nothing else: the register
imports the family modules, so a re-export of the engine here would make an import cycle.
"""

from recon.measures.model import MeasuresResult, MeasureValue

__all__ = ["MeasureValue", "MeasuresResult"]
