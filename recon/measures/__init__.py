"""Measures of measures.md, computed as polars lazy plans.

``compute_measures`` / ``run_measures`` run the four families (access, activity, outcomes,
completeness); ``catalog()`` names, describes and orders every measure (rules/measures.toml).
"""

from recon.measures.engine import Catalog, MeasureDef, catalog, compute_measures, run_measures
from recon.measures.model import MeasuresResult, MeasureValue

__all__ = ["Catalog", "MeasureDef", "MeasureValue", "MeasuresResult", "catalog", "compute_measures", "run_measures"]
