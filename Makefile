# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MONTH ?= 2024-09

.PHONY: demo test check bench venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/recon validate --month $(MONTH) --epr sample_data/mhsds || test $$? -eq 1
	$(BIN)/recon validate --month $(MONTH) --epr sample_data/epr --mapping riverside || test $$? -eq 1

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff check recon tests bench
	$(BIN)/mypy

bench: $(STAMP)
	@echo "make bench: the large-provider benchmark arrives with issue 7"

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
