# Front door of the template: `make help` lists every target, grouped by lifecycle.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# --- Variables (override on the command line: make serve PORT=8080) ----------------------
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV_VERSION := 0.13.8
PORT ?= 3000
INPUT ?=
DB ?= sqlite:///predictions.db
VERSION ?=
STAGE ?= prod
FORCE ?=
METRIC ?= f1_macro
BASE ?=
TARGET ?= evaluate
JOBS ?= 1
GRID ?= sweep.yaml
APPLY ?=
BRANCH ?=
REPRODUCE_BASE ?= 1
SINCE ?=
WINDOW ?=
ALLOW_STALE ?=
FAIL_ON_DRIFT ?= 1
ALL_COMMITS ?=
SET ?=
PROMOTE ?= 1
EXPLAIN ?=
TRIALS ?=
FITS ?=
CSV ?=
NAME ?=
TARGET_COLUMN ?=
BASE_FLAGS = $(if $(BASE),--base $(BASE)) $(if $(filter 1,$(REPRODUCE_BASE)),,--no-reproduce)

# Every command below runs inside the locked environment, offline-friendly.
export PATH := $(BIN):$(PATH)
export BENTOML_HOME := $(CURDIR)/bentoml_home
export BENTOML_DO_NOT_TRACK := True
export DVC_NO_ANALYTICS := 1
export PYTHONHASHSEED := 0

# `make help`: the `##` text of every target under its `##@` group, variables expanded.
.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n\033[1m%s\033[0m\n", substr($$0, 5)} \
		/^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST) \
		| sed -e 's|$$(PORT)|$(PORT)|g' -e 's|$$(DB)|$(DB)|g' -e 's|$$(METRIC)|$(METRIC)|g' \
		-e 's|$$(GRID)|$(GRID)|g' -e 's|$$(JOBS)|$(JOBS)|g' -e 's|$$(TARGET)|$(TARGET)|g' \
		-e 's|$$(STAGE)|$(STAGE)|g'

##@ Setup
# --compile-bytecode: every DVC stage is a fresh interpreter; without .pyc files (e.g. under
# PYTHONDONTWRITEBYTECODE=1) each one recompiles pandas/scikit-learn, seconds per stage.
$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "setup: creating $(VENV)/ from requirements.lock (exact, hashed versions; about 2 minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip sync --require-hashes --compile-bytecode requirements.lock
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install --quiet --no-deps --no-build-isolation -e .
	touch $@
	@echo "setup: done. Activate it for the commands in the README: source $(VENV)/bin/activate"

.PHONY: setup
setup: $(VENV)/.installed ## Create .venv/ from the lock file (exact, hashed versions)

.PHONY: lock
lock: setup ## Re-resolve the lock file from pyproject.toml (needs the network)
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

.PHONY: clean-venv
clean-venv: ## Remove the virtual environment
	rm -rf $(VENV)

##@ Pipeline
.PHONY: repro
repro: setup ## Run the whole DVC pipeline (ingest -> validate -> split -> train -> evaluate -> package)
	dvc repro

.PHONY: dag
dag: setup ## Show the pipeline graph
	dvc dag

.PHONY: plots
plots: setup ## Render the pipeline plots to reports/plots_html/index.html (offline, no CDN)
	dvc plots show -o reports/plots_html

##@ Your own data (docs/own-data.md)
.PHONY: bootstrap
bootstrap: setup ## Profile + schema from your CSV: make bootstrap CSV=data/external/my.csv NAME=my TARGET_COLUMN=label [FORCE=1]
	@test -n "$(CSV)" -a -n "$(NAME)" -a -n "$(TARGET_COLUMN)" || { echo "usage: make bootstrap CSV=data/external/my.csv NAME=my TARGET_COLUMN=label [FORCE=1]"; exit 2; }
	python -m tabml.cli bootstrap "$(CSV)" --name "$(NAME)" --target "$(TARGET_COLUMN)" $(if $(FORCE),--force)

.PHONY: accept-data
accept-data: setup ## Accept a changed source file: pin its new sha256 in the dataset profile
	python -m tabml.cli accept-data

##@ Experiments and review
.PHONY: check-queue
check-queue: setup ## Refuse if files the pipeline needs are untracked or unstaged in git
	python -m tabml.cli check-queue

.PHONY: sweep
sweep: setup ## Queue the grid in GRID=$(GRID), run it (JOBS=$(JOBS) at once), print the table
	python -m tabml.cli sweep --grid $(GRID) --jobs $(JOBS) --target "$(TARGET)" --metric $(METRIC)

.PHONY: best
best: setup ## Best experiment by METRIC=$(METRIC) [APPLY=1 to apply it, BRANCH=name to branch it, ALL_COMMITS=1]
	python -m tabml.cli best --metric $(METRIC) $(if $(filter 1 yes true,$(APPLY)),--apply) $(if $(BRANCH),--branch $(BRANCH)) $(if $(filter 1 yes true,$(ALL_COMMITS)),--all-commits)

.PHONY: restore-baseline
restore-baseline: setup ## After `dvc exp run`/`make best APPLY=1`: params.yaml, dvc.lock and outputs back to HEAD
	python -m tabml.cli restore-baseline

.PHONY: report
report: setup ## Markdown review vs BASE (default main) -> reports/review/report.md [REPRODUCE_BASE=0]
	python -m tabml.cli report $(BASE_FLAGS) --target "$(TARGET)"

.PHONY: gate
gate: setup ## Fail if a metric breaks the gates in params.yaml (vs BASE, default main)
	python -m tabml.cli gate $(BASE_FLAGS) --target "$(TARGET)"

.PHONY: tune
tune: setup ## Tune train.model + hyperparameters, then train on them: make tune [FITS=80] [TRIALS=20] (a dvc experiment)
	dvc exp run -S train.use_tuned=true $(if $(FITS),-S tune.max_fits=$(FITS)) $(if $(TRIALS),-S tune.n_trials=$(TRIALS))
	@cat models/tuned_params.yaml

##@ Serving
.PHONY: serve
serve: setup ## Serve the packaged model (models/tabml_service.bento) on 127.0.0.1:$(PORT)
	PYTHONPATH=src python -m tabml.cli serve --host 127.0.0.1 --port $(PORT) $(if $(ALLOW_STALE),--stale-ok)

##@ Batch scoring
.PHONY: batch
batch: setup ## Score a CSV/parquet into SQLite or PostgreSQL: make batch INPUT=file.csv [DB=$(DB)] [EXPLAIN=1] (Dask: docs/scale-out.md)
	@test -n "$(INPUT)" || { echo "usage: make batch INPUT=file.csv [DB=$(DB)]"; exit 2; }
	python -m tabml.cli batch "$(INPUT)" --db "$(DB)" $(if $(ALLOW_STALE),--stale-ok) $(if $(filter 1 yes true,$(EXPLAIN)),--explain)

##@ Monitoring
.PHONY: drift
drift: setup ## Drift of production inputs vs training (DRIFT: make reports Error 3): make drift [INPUT=file.csv] [FAIL_ON_DRIFT=0]
	python -m tabml.cli drift $(if $(INPUT),--input "$(INPUT)") $(if $(filter 0 no false,$(FAIL_ON_DRIFT)),--no-fail-on-drift)

.PHONY: feedback
feedback: setup ## Import true labels (columns prediction_id,label) into the feedback log: make feedback INPUT=labels.csv
	@test -n "$(INPUT)" || { echo "usage: make feedback INPUT=labels.csv"; exit 2; }
	python -m tabml.cli feedback "$(INPUT)"

.PHONY: monitor
monitor: setup ## Live metrics per model version and window -> reports/monitor/; alert: make reports Error 3 [SINCE=7d WINDOW=1d DB=$(DB)]
	python -m tabml.cli monitor $(if $(SINCE),--since "$(SINCE)") $(if $(WINDOW),--window "$(WINDOW)") --db "$(DB)"

##@ Continuous training (docs/continuous-training.md)
.PHONY: harvest
harvest: setup ## Labelled production rows (request + feedback logs) -> data/production/labelled.parquet (dvc add)
	python -m tabml.cli harvest

.PHONY: retrain
retrain: setup ## Challenger on production labels vs the prod champion; promote if it wins (kept: make reports Error 3) [SET="k=v ..." VERSION= PROMOTE=0]
	python -m tabml.cli retrain $(foreach s,$(SET),--set "$(s)") $(if $(VERSION),--version "$(VERSION)") $(if $(filter 0 no false,$(PROMOTE)),--no-promote)

##@ Registry
.PHONY: register
register: setup ## Register HEAD's model as a GTO version if the metric gate passes: make register VERSION=v1.0.0
	@test -n "$(VERSION)" || { echo "usage: make register VERSION=v1.0.0"; exit 2; }
	python -m tabml.cli register "$(VERSION)"

.PHONY: promote
promote: setup ## Assign a stage to a registered version (gate checked): make promote VERSION=v1.0.0 [STAGE=$(STAGE)]
	@test -n "$(VERSION)" || { echo "usage: make promote VERSION=v1.0.0 STAGE=prod"; exit 2; }
	python -m tabml.cli promote "$(VERSION)" --stage "$(STAGE)"

.PHONY: rollback
rollback: setup ## Check a registered version's model out of the DVC cache: make rollback VERSION=v1.0.0 [FORCE=1]
	@test -n "$(VERSION)" || { echo "usage: make rollback VERSION=v1.0.0"; exit 2; }
	python -m tabml.cli rollback "$(VERSION)" $(if $(FORCE),--force)

.PHONY: registry
registry: setup ## Show registered versions and stages (gto show)
	gto show

##@ Benchmarks (results go to docs/benchmarks.md)
# `make bench` runs every benchmark; each writes its own section, benchmarks/suite.py writes
# the machine, the commands and each one's outcome.
.PHONY: bench
bench: setup ## Run every benchmark (pipeline, serving, batch) into docs/benchmarks.md (~20+ min)
	python -m benchmarks.suite bench-pipeline bench-serve bench-batch

.PHONY: bench-pipeline
bench-pipeline: setup ## Benchmark DVC overhead, no-op repro, fresh clone, flights at 1x/3x/10x
	python -m benchmarks.pipeline

.PHONY: bench-serve
bench-serve: setup ## Benchmark the server vs a no-op model and in-process scikit-learn (uses wrk)
	@command -v wrk >/dev/null || echo "bench-serve: wrk not found (apt-get install -y wrk); falling back to the slower Python load generator"
	PYTHONPATH=src python benchmarks/serving.py

.PHONY: bench-tune
bench-tune: setup ## Benchmark the search vs sweep.yaml's grid on penguins + a flights sample (fits, test F1/AUC, make tune vs make sweep, Dask)
	python -m benchmarks.tuning

.PHONY: bench-explain
bench-explain: setup ## Benchmark what explaining a one-record request costs (in process, ~10 s)
	PYTHONPATH=src python -m benchmarks.explain

.PHONY: bench-request-log
bench-request-log: setup ## Measure the request log's capacity in records/s (in process, ~25 s)
	PYTHONPATH=src python -m benchmarks.request_log

.PHONY: bench-monitor
bench-monitor: setup ## Benchmark make monitor on 1,000,000 logged predictions and 1,000,000 labels
	python -m benchmarks.monitoring

.PHONY: bench-regression
bench-regression: setup ## Benchmark the regressor against the classifier (batch) and a no-op server
	python -m benchmarks.regression

.PHONY: bench-batch
bench-batch: setup ## Benchmark batch scoring: 1M rows vs a naive script and SQLite's floor, Dask+PostgreSQL, 10M rows (~10 min)
	python -m benchmarks.batch

##@ Development
.PHONY: test
test: setup ## Run the default test suite (everything not marked slow; about 5 minutes on 2 cores)
	pytest

.PHONY: test-quick
test-quick: setup ## Run the quick tier: unit, data and model tests (under a minute)
	pytest -q tests/unit tests/data tests/model

.PHONY: test-slow
test-slow: setup ## Run only the slow-marked tests
	pytest -m slow

.PHONY: reliability
reliability: setup ## Reliability suite: killed repro, corrupted data, tampered outputs, serving load/kill (slow)
	pytest -m slow tests/reliability -v

.PHONY: test-http-guards
test-http-guards: setup ## Hostile-client tests against a real server, heavy ones included (~45 s)
	pytest -m "slow or not slow" -s tests/reliability/test_http_guards.py

.PHONY: fuzz-serve
fuzz-serve: setup ## Bounded schemathesis run against a real server: no request may get a 5xx
	pytest -m slow -q "tests/service/test_schemathesis.py::test_no_generated_request_gets_a_server_error[long]"

.PHONY: audit
audit: setup ## Known vulnerabilities in requirements.lock (pip-audit); SKIPPED, not failed, offline
	python .ci/audit.py --requirement requirements.lock

.PHONY: lint
lint: setup ## Lint and check formatting with ruff
	ruff check . && ruff format --check .

.PHONY: format
format: setup ## Format code and sort imports with ruff
	ruff check --fix . && ruff format .
