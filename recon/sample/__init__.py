"""A fictional CYP provider for demos, tests and benchmarks (``python -m recon.sample``)."""

from recon.sample.generate import build_tables, generate, write_tables

__all__ = ["build_tables", "generate", "write_tables"]
