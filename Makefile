# Front door of the template. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV_VERSION := 0.13.8
PORT ?= 3000

# Every command below runs inside the locked environment, offline-friendly.
export PATH := $(BIN):$(PATH)
export BENTOML_HOME := $(CURDIR)/bentoml_home
export BENTOML_DO_NOT_TRACK := True
export DVC_NO_ANALYTICS := 1
export PYTHONHASHSEED := 0

.PHONY: help setup repro test test-slow lint format dag plots clean-venv

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip sync --quiet --require-hashes requirements.lock
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(VENV)/.installed ## Create .venv/ from the lock file (exact, hashed versions)

repro: setup ## Run the whole DVC pipeline (ingest -> validate -> split -> train -> evaluate -> package)
	dvc repro

test: setup ## Run the test suite (fast tests; slow ones are marked)
	pytest

test-slow: setup ## Run only the slow-marked tests
	pytest -m slow

lint: setup ## Lint and check formatting with ruff
	ruff check . && ruff format --check .

format: setup ## Format code and sort imports with ruff
	ruff check --fix . && ruff format .

dag: setup ## Show the pipeline graph
	dvc dag

plots: setup ## Render the pipeline plots to reports/plots.html (offline, no CDN)
	dvc plots show --open=false -o reports/plots_html

lock: setup ## Re-resolve the lock file from pyproject.toml (needs the network)
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

clean-venv: ## Remove the virtual environment
	rm -rf $(VENV)

# --- Serving (issue 3) -------------------------------------------------------------------
.PHONY: serve bench-serve fuzz-serve

serve: setup ## Serve the packaged model (models/tabml_service.bento) on 127.0.0.1:$(PORT)
	PYTHONPATH=src python -m tabml.serve --host 127.0.0.1 --port $(PORT)

bench-serve: setup ## Benchmark the server vs a no-op model and in-process scikit-learn (uses wrk)
	@command -v wrk >/dev/null || echo "bench-serve: wrk not found (apt-get install -y wrk); falling back to the slower Python load generator"
	PYTHONPATH=src python benchmarks/serving.py

fuzz-serve: setup ## Bounded schemathesis run against a real server: no request may get a 5xx
	pytest -m slow -q "tests/service/test_schemathesis.py::test_no_generated_request_gets_a_server_error[long]"
