# The README's two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
MONTH ?= 2024-09
OUT ?= out
# The demo keeps its run history apart from the user's own ledger.
DEMO_LEDGER := $(OUT)/demo-ledger.sqlite

.PHONY: demo test check bench bench-quick sample venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

venv: $(STAMP)

# The main job on the sample provider: validate the local extract, then reconcile it with the
# pre-deadline extract and the (synthetic) published file and write the sign-off pack.
# Exit 1 means "findings or discrepancies to review", which the sample data has on purpose.
demo: $(STAMP)
	@mkdir -p $(OUT)
	$(BIN)/recon validate --month $(MONTH) --epr sample_data/mhsds --no-ledger || test $$? -eq 1
	$(BIN)/recon reconcile --month $(MONTH) --epr sample_data/epr --mapping riverside \
		--extract sample_data/extract.zip --published sample_data/published \
		--deadline 2024-11-07 --ledger $(DEMO_LEDGER) --pack $(OUT)/recon-pack-$(MONTH).xlsx || test $$? -eq 1
	@echo
	@echo "Pack written: $(OUT)/recon-pack-$(MONTH).xlsx"
	@echo "recon is installed in $(VENV), not on your PATH: run $(BIN)/recon --help,"
	@echo "or 'source $(BIN)/activate' once in this shell and then type recon --help."

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff check recon tests bench
	$(BIN)/mypy

# Large-provider timings (issue 7): generates ~400,000 people once (cached in bench/data/),
# then times whole recon processes and the pandas/DuckDB references. Writes bench/results.json.
bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/pack_bench.py

# Regenerate the committed sample data (fixed seed; byte-identical unless the generator changed).
sample: $(STAMP)
	$(BIN)/python -m recon.sample --bundle --out sample_data

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache

# A 4,000-person smoke run of the same benchmark (about 3 minutes): writes bench/out/quick.json.
bench-quick: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --quick
