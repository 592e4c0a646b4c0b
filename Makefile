# The two commands of the README: `make run` and `make test`. Everything else is a convenience.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: run test test-fast lint format bench demo-model precompute docker-check clean help

help:
	@echo "make run        install, migrate SQLite, seed dev users, analyse models, serve on http://$(HOST):$(PORT)"
	@echo "make test       install with test extras and run the whole suite"
	@echo "make test-fast  unit and integration tests only (no model fits, no browser)"
	@echo "make lint       ruff check"
	@echo "make bench      python -m mmm_dash bench"

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "mmm-dash needs Python 3.11 (google-meridian 2.1.0 is pinned)"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(PY) -m mmm_dash init-db
	$(PY) -m mmm_dash seed-users
	$(PY) -m mmm_dash precompute
	$(PY) -m mmm_dash serve --host $(HOST) --port $(PORT)

test: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

test-fast: $(VENV)/.test-installed
	$(PY) -m pytest -m "not slow and not browser"

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .

format: $(VENV)/.test-installed
	$(PY) -m ruff format .

bench: $(VENV)/.run-installed
	$(PY) -m mmm_dash bench

demo-model: $(VENV)/.run-installed
	$(PY) -m mmm_dash demo-model

precompute: $(VENV)/.run-installed
	$(PY) -m mmm_dash precompute

clean:
	rm -rf $(VENV) instance tests/.model-cache .pytest_cache .ruff_cache
