# Every target works from a fresh clone: `setup` creates .venv with uv (installing uv with pip if missing).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck pytest bench docs clean

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

test: lint pytest

demo: setup
	$(PY) scripts/demo.py

bench: setup
	$(PY) -m bench

docs: setup
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) site .mypy_cache .ruff_cache
