"""The waits family on the register: ``plan(ctx)`` adapts :func:`compute` to a FamilyContext."""

from __future__ import annotations

from recon.measures.family import FamilyContext, FamilyPlan
from recon.measures.waits.compute import compute


def plan(ctx: FamilyContext) -> FamilyPlan:
    """Every waits value (computed now: percentiles and float32 proportions need the collected
    spells) and the record-level frames behind them."""
    values, details = compute(ctx.tables, ctx.month, ctx.settings, ctx.codes, ctx.snomed)
    return FamilyPlan(values=values, details=details)
