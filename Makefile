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

.PHONY: help setup repro test test-slow lint format dag plots clean-venv bench bench-pipeline reliability
.PHONY: drift register promote rollback registry

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

# --compile-bytecode: every DVC stage is a fresh interpreter; without .pyc files (e.g. under
# PYTHONDONTWRITEBYTECODE=1) each one recompiles pandas/scikit-learn, seconds per stage.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip sync --quiet --require-hashes --compile-bytecode requirements.lock
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

plots: setup ## Render the pipeline plots to reports/plots_html/index.html (offline, no CDN)
	dvc plots show -o reports/plots_html

lock: setup ## Re-resolve the lock file from pyproject.toml (needs the network)
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

# --- Production loop: drift reports and the model registry (README "Production loop") ---
INPUT ?=
drift: setup ## Drift of production inputs vs training: make drift [INPUT=file.csv] (default: request log)
	python -m tabml.cli drift $(if $(INPUT),--input "$(INPUT)")

VERSION ?=
STAGE ?= prod
FORCE ?=
register: setup ## Register HEAD's model as a GTO version if the metric gate passes: make register VERSION=v1.0.0
	@test -n "$(VERSION)" || { echo "usage: make register VERSION=v1.0.0"; exit 2; }
	python -m tabml.cli register "$(VERSION)"

promote: setup ## Assign a stage to a registered version (gate checked): make promote VERSION=v1.0.0 [STAGE=prod]
	@test -n "$(VERSION)" || { echo "usage: make promote VERSION=v1.0.0 STAGE=prod"; exit 2; }
	python -m tabml.cli promote "$(VERSION)" --stage "$(STAGE)"

rollback: setup ## Check a registered version's model out of the DVC cache: make rollback VERSION=v1.0.0 [FORCE=1]
	@test -n "$(VERSION)" || { echo "usage: make rollback VERSION=v1.0.0"; exit 2; }
	python -m tabml.cli rollback "$(VERSION)" $(if $(FORCE),--force)

registry: setup ## Show registered versions and stages (gto show)
	gto show
# --- Batch scoring (issue 5; README "Production loop", docs/production-loop.md) -----------
.PHONY: batch bench-batch
DB ?= sqlite:///predictions.db
batch: setup ## Score a CSV/parquet into a database: make batch INPUT=file.csv [DB=sqlite:///predictions.db]
	@test -n "$(INPUT)" || { echo "usage: make batch INPUT=file.csv [DB=sqlite:///predictions.db]"; exit 2; }
	python -m tabml.cli batch "$(INPUT)" --db "$(DB)"

bench-batch: setup ## Benchmark batch scoring of 1,000,000 rows vs raw ONNX predict -> docs/benchmarks.md
	python -m benchmarks.batch
# --- end batch scoring -------------------------------------------------------------------
# --- Pipeline benchmark and reliability suite (issue 6) -----------------------------------
# `make bench` runs every benchmark into docs/benchmarks.md (each writes its own section;
# benchmarks/suite.py writes the machine, the commands and each one's outcome).
bench: setup ## Run every benchmark (pipeline, serving, batch) into docs/benchmarks.md (~20+ min)
	python -m benchmarks.suite bench-pipeline bench-serve bench-batch

bench-pipeline: setup ## Benchmark DVC overhead, no-op repro, fresh clone, flights at 1x/3x/10x
	python -m benchmarks.pipeline

# Serving: sustained load and a killed server (tests/reliability/test_serving_slow.py).
reliability: setup ## Reliability suite: killed repro, corrupted data, tampered outputs, serving load/kill (slow)
	pytest -m slow tests/reliability -v
# --- end issue 6 -------------------------------------------------------------------------

clean-venv: ## Remove the virtual environment
	rm -rf $(VENV)

# --- Experiments and review (tabml.cli; see README "Experiments and review") ---
.PHONY: sweep best report gate check-queue
METRIC ?= f1_macro
BASE ?=
TARGET ?= evaluate
JOBS ?= 1
GRID ?= sweep.yaml
APPLY ?=
BRANCH ?=
REPRODUCE_BASE ?= 1
BASE_FLAGS = $(if $(BASE),--base $(BASE)) $(if $(filter 1,$(REPRODUCE_BASE)),,--no-reproduce)

check-queue: setup ## Refuse if files the pipeline needs are untracked or unstaged in git
	python -m tabml.cli check-queue

sweep: setup ## Queue the grid in GRID=sweep.yaml, run it, print the table [JOBS=1 TARGET=evaluate]
	python -m tabml.cli sweep --grid $(GRID) --jobs $(JOBS) --target "$(TARGET)" --metric $(METRIC)

best: setup ## Best experiment by METRIC=f1_macro [APPLY=1 to apply it, BRANCH=name to branch it]
	python -m tabml.cli best --metric $(METRIC) $(if $(filter 1 yes true,$(APPLY)),--apply) $(if $(BRANCH),--branch $(BRANCH))

report: setup ## Markdown review vs BASE (default main) -> reports/review/report.md [REPRODUCE_BASE=0]
	python -m tabml.cli report $(BASE_FLAGS) --target "$(TARGET)"

gate: setup ## Fail if a metric breaks the gates in params.yaml (vs BASE, default main)
	python -m tabml.cli gate $(BASE_FLAGS) --target "$(TARGET)"
# --- Serving (issue 3) -------------------------------------------------------------------
.PHONY: serve bench-serve fuzz-serve

serve: setup ## Serve the packaged model (models/tabml_service.bento) on 127.0.0.1:$(PORT)
	PYTHONPATH=src python -m tabml.serve --host 127.0.0.1 --port $(PORT)

bench-serve: setup ## Benchmark the server vs a no-op model and in-process scikit-learn (uses wrk)
	@command -v wrk >/dev/null || echo "bench-serve: wrk not found (apt-get install -y wrk); falling back to the slower Python load generator"
	PYTHONPATH=src python benchmarks/serving.py

fuzz-serve: setup ## Bounded schemathesis run against a real server: no request may get a 5xx
	pytest -m slow -q "tests/service/test_schemathesis.py::test_no_generated_request_gets_a_server_error[long]"

# --- Serving hardening ---------------------------------------------------------------------
.PHONY: bench-request-log test-http-guards

bench-request-log: setup ## Measure the request log's capacity in records/s (in process, ~25 s)
	PYTHONPATH=src python -m benchmarks.request_log

test-http-guards: setup ## Hostile-client tests against a real server, heavy ones included (~45 s)
	pytest -m "slow or not slow" -s tests/reliability/test_http_guards.py
