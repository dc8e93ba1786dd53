"""Benchmark harness and independent reference implementations (not part of the recon package)."""
