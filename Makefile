# Every target works from a fresh clone: `setup` creates .venv with uv (installing uv with pip if missing).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck pytest compat dist wheel-check bench docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(UV)" ]; then python3 -m pip install --quiet uv; fi
	@uv=$$(command -v uv || echo "python3 -m uv"); \
	  $$uv venv --quiet --allow-existing -p python3 $(VENV) && \
	  $$uv pip install --quiet -p $(PY) -e ".[dev]"
	@# PYTHONDONTWRITEBYTECODE=1 is set on these machines: compile once so airflow starts fast
	@$(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
	@touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check airflow_provider_telephony tests example_dags bench scripts
	$(VENV)/bin/ruff format --check airflow_provider_telephony tests example_dags bench scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir "$$(mktemp -d)"

pytest: setup
	$(PY) -m pytest -q -p no:cacheprovider

# the suite (unit, sandbox integration, one example DAG) on the newest 3.1.x and 3.2.x, each in its own env
AIRFLOW_SERIES ?= 3.1 3.2
compat: setup
	$(PY) scripts/airflow_compat.py $(AIRFLOW_SERIES)

# wheel and sdist in dist/
dist: setup
	@rm -rf dist
	@uv=$$(command -v uv || echo "python3 -m uv"); $$uv build --quiet --out-dir dist

# install the built wheel (not editable) into a fresh env: every module imports, Airflow lists the provider
wheel-check: dist
	$(PY) scripts/check_wheel.py dist/*.whl

test: lint pytest compat wheel-check

demo: setup
	$(PY) scripts/demo.py

# its own env (.venv-bench: the dev and bench extras, dlt and the HTTP provider among them), so the peers'
# packages never enter the test env; `make bench BENCH_ARGS=--quick` for a smoke run
bench:
	@if [ -z "$(UV)" ]; then python3 -m pip install --quiet uv; fi
	@if [ ! -f .venv-bench/.installed ] || [ pyproject.toml -nt .venv-bench/.installed ]; then \
	  uv=$$(command -v uv || echo "python3 -m uv"); \
	  $$uv venv --quiet --allow-existing -p python3 .venv-bench && \
	  $$uv pip install --quiet -p .venv-bench/bin/python -e ".[dev,bench]" && \
	  { .venv-bench/bin/python -m compileall -q -j 0 .venv-bench/lib >/dev/null 2>&1 || true; } && \
	  touch .venv-bench/.installed; \
	fi
	.venv-bench/bin/python -m bench $(BENCH_ARGS)

docs: setup
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .venv-bench .venv-airflow-* dist site .mypy_cache .ruff_cache
