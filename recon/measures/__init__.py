"""Measures of measures.md, computed as polars lazy plans (issue 3 fills the families in)."""
