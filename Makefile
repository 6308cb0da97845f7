# The README's quick start is exactly `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8787
DATA_DIR ?= .stageline

.PHONY: run test install install-test lint typecheck bench clean screenshots

$(BIN)/stageline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

install: $(BIN)/stageline

$(VENV)/.test-installed: pyproject.toml $(BIN)/stageline
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install-test: $(VENV)/.test-installed

run: install
	$(BIN)/stageline server --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --example

test: install-test
	scripts/test

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-test
	$(BIN)/mypy

# Refresh the console screenshots the README shows (the e2e tests take them).
screenshots: install-test
	STAGELINE_SCREENSHOTS=docs/screenshots scripts/test tests/e2e -q

bench: install-test
	$(BIN)/python bench/api_latency.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
