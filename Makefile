# Front door of the template: `make help` lists every target, grouped by lifecycle.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# --- Variables (override on the command line: make serve PORT=8080) ----------------------
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV_VERSION := 0.13.8
PORT ?= 3000
DEMO_PORT ?= 0
INPUT ?=
DB ?= sqlite:///predictions.db
VERSION ?=
STAGE ?= prod
ALL ?=
WITH ?=
PACKAGE ?=
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
EXCLUDE_SOURCE ?=
MAX_BYTES ?=
EXPLAIN ?=
TRIALS ?=
FITS ?=
CSV ?=
NAME ?=
TARGET_COLUMN ?=
SHADOW ?=
CANARY ?=
PAIRED ?=
BASE_FLAGS = $(if $(BASE),--base $(BASE)) $(if $(filter 1,$(REPRODUCE_BASE)),,--no-reproduce)
EXCLUDE_FLAGS = $(foreach s,$(EXCLUDE_SOURCE),--exclude-source "$(s)")

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
repro: setup ## Run the whole DVC pipeline (ingest -> features -> validate -> split -> train -> evaluate -> package)
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
serve: setup ## Serve the packaged model (models/tabml_service.bento) on 127.0.0.1:$(PORT) [SHADOW=v1.1.0[:0.5] CANARY=v1.2.0:0.1]
	PYTHONPATH=src python -m tabml.cli serve --host 127.0.0.1 --port $(PORT) $(if $(ALLOW_STALE),--stale-ok) $(if $(SHADOW),--shadow "$(SHADOW)") $(if $(CANARY),--canary "$(CANARY)")

##@ Edge (docs/edge.md)
# npm ci installs exactly edge/package-lock.json (integrity-checked; from npm's cache when
# offline); --ignore-scripts: no package runs code at install time.
EDGE_RUNTIME := edge/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm
$(EDGE_RUNTIME): edge/package.json edge/package-lock.json
	@command -v npm >/dev/null || { echo "edge: npm not found (Node.js 18+ with npm: apt-get install -y nodejs npm)"; exit 1; }
	cd edge && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund
	touch $@

.PHONY: edge
edge: setup $(EDGE_RUNTIME) ## Edge bundle -> dist/edge/: model.onnx, rules.json, ES module scorer, onnxruntime-web (WASM)
	python -m tabml.cli edge --out dist/edge

.PHONY: edge-demo
edge-demo: edge ## Serve dist/edge/ on 127.0.0.1 (a free port, or DEMO_PORT=8080): a form answered in the browser
	python -m tabml.cli edge-demo --folder dist/edge --port $(DEMO_PORT)

##@ Batch scoring
# DB reaches the commands in the environment (TABML_DB), never on a command line make echoes
# or `ps` shows: a database URL may hold a password.
batch monitor: export TABML_DB = $(DB)

.PHONY: batch
batch: setup ## Score a CSV/parquet into SQLite or PostgreSQL: make batch INPUT=file.csv [DB=$(DB)] [EXPLAIN=1] [SHADOW=v1.1.0] (Dask: docs/scale-out.md)
	@test -n "$(INPUT)" || { echo "usage: make batch INPUT=file.csv [DB=sqlite:///predictions.db]"; exit 2; }
	python -m tabml.cli batch "$(INPUT)" $(if $(ALLOW_STALE),--stale-ok) $(if $(filter 1 yes true,$(EXPLAIN)),--explain) $(if $(SHADOW),--shadow "$(SHADOW)")

##@ Monitoring
.PHONY: drift
drift: setup ## Drift of production inputs vs training (DRIFT: make reports Error 3): make drift [INPUT=file.csv] [FAIL_ON_DRIFT=0]
	python -m tabml.cli drift $(if $(INPUT),--input "$(INPUT)") $(if $(filter 0 no false,$(FAIL_ON_DRIFT)),--no-fail-on-drift)

.PHONY: feedback
feedback: setup ## Import true labels (columns prediction_id,label), all or none: make feedback INPUT=labels.csv [MAX_BYTES=]
	@test -n "$(INPUT)" || { echo "usage: make feedback INPUT=labels.csv"; exit 2; }
	python -m tabml.cli feedback "$(INPUT)" $(if $(MAX_BYTES),--max-bytes $(MAX_BYTES))

.PHONY: monitor
monitor: setup ## Live metrics per model version and window -> reports/monitor/; alert: make reports Error 3 [SINCE=7d WINDOW=1d DB=$(DB) EXCLUDE_SOURCE=http]
	python -m tabml.cli monitor $(if $(SINCE),--since "$(SINCE)") $(if $(WINDOW),--window "$(WINDOW)") $(EXCLUDE_FLAGS)

.PHONY: dashboard
dashboard: setup ## One offline HTML page of the model's life -> reports/site/index.html (open it from disk)
	python -m tabml.cli dashboard

##@ Continuous training (docs/continuous-training.md)
.PHONY: harvest
harvest: setup ## Labelled production rows (request + feedback logs) -> data/production/labelled.parquet (dvc add) [EXCLUDE_SOURCE=http]
	python -m tabml.cli harvest $(EXCLUDE_FLAGS)

.PHONY: retrain
retrain: setup ## Challenger on production labels vs the prod champion; promote if it wins (kept: make reports Error 3) [SET="k=v ..." VERSION= PROMOTE=0 EXCLUDE_SOURCE= PAIRED=1]
	python -m tabml.cli retrain $(foreach s,$(SET),--set "$(s)") $(if $(VERSION),--version "$(VERSION)") $(if $(filter 0 no false,$(PROMOTE)),--no-promote) $(EXCLUDE_FLAGS) $(if $(PAIRED),--paired "$(PAIRED)")

##@ Registry
.PHONY: register
register: setup ## Register HEAD's model as a GTO version if the metric gate passes: make register VERSION=v1.0.0
	@test -n "$(VERSION)" || { echo "usage: make register VERSION=v1.0.0"; exit 2; }
	python -m tabml.cli register "$(VERSION)"

.PHONY: promote
promote: setup ## Assign a stage to a registered version (gate checked): make promote VERSION=v1.0.0 [STAGE=$(STAGE) PAIRED=1|metric]
	@test -n "$(VERSION)" || { echo "usage: make promote VERSION=v1.0.0 STAGE=prod"; exit 2; }
	python -m tabml.cli promote "$(VERSION)" --stage "$(STAGE)" $(if $(PAIRED),--paired "$(PAIRED)")

.PHONY: rollback
rollback: setup ## A registered version's model + configuration in the workspace and in STAGE (also rolls forward): make rollback VERSION=v1.0.0 [STAGE=$(STAGE) FORCE=1]
	@test -n "$(VERSION)" || { echo "usage: make rollback VERSION=v1.0.0"; exit 2; }
	python -m tabml.cli rollback "$(VERSION)" --stage "$(STAGE)" $(if $(FORCE),--force)

.PHONY: registry
registry: setup ## Show registered versions and stages (gto show)
	gto show

##@ Reproduction (docs/reproduction.md)
.PHONY: reproduce
reproduce: setup ## Rebuild a version from its commit + lock, compare with the registry: make reproduce VERSION=v1.0.0 | ALL=1 [WITH=pkg==x.y] (moved: make reports Error 3)
	@test -n "$(VERSION)$(filter 1 yes true,$(ALL))" || { echo "usage: make reproduce VERSION=v1.0.0, or make reproduce ALL=1"; exit 2; }
	python -m tabml.cli reproduce $(if $(filter 1 yes true,$(ALL)),--all,"$(VERSION)") $(foreach w,$(WITH),--with "$(w)")

.PHONY: canary
canary: setup ## Rebuild HEAD with each direct dependency at its newest release; SKIPPED offline [PACKAGE="numpy scikit-learn==1.8.0"] (moved: Error 3)
	python -m tabml.cli canary $(foreach p,$(PACKAGE),--package "$(p)")

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

.PHONY: bench-edge
bench-edge: edge ## Benchmark one record in Node (onnxruntime-web WASM) beside the Python runtime (~30 s)
	PYTHONPATH=src python -m benchmarks.edge

.PHONY: bench-entity
bench-entity: setup ## Benchmark the features stage's as-of join: 1M training rows x 1M entity rows (time, peak RSS)
	PYTHONPATH=src python -m benchmarks.entity_join

.PHONY: bench-entity-lookup
bench-entity-lookup: setup ## Benchmark online entity lookups: EntityStore.fill per request (dict, SQLite) and /predict vs the no-op server
	PYTHONPATH=src:. python -m benchmarks.entity_lookup

BENCH_FEAST_VENV := .bench-venv-feast
$(BENCH_FEAST_VENV)/.installed: benchmarks/envs/feast.txt
	@echo "bench-feast: creating $(BENCH_FEAST_VENV)/ (benchmarks/envs/feast.txt; Feast pins pandas<3)"
	$(PYTHON) -m venv $(BENCH_FEAST_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(BENCH_FEAST_VENV) $(BIN)/uv pip install --quiet --require-hashes -r benchmarks/envs/feast.txt
	touch $@

.PHONY: bench-feast
bench-feast: setup $(BENCH_FEAST_VENV)/.installed ## Compare the as-of join with Feast's get_historical_features (values and time; bench-only venv)
	PYTHONPATH=src:. python -m benchmarks.feast_parity

.PHONY: bench-request-log
bench-request-log: setup ## Measure the request log's capacity in records/s (in process, ~25 s)
	PYTHONPATH=src python -m benchmarks.request_log

# The monitoring peers (Evidently, NannyML) have their own venv with their own pandas < 3
# (Evidently 0.7 does not import with pandas 3): never the project's lock, never tabml.
BENCH_MONITOR_VENV := .bench-venv-monitor
$(BENCH_MONITOR_VENV)/.installed: $(VENV)/.installed benchmarks/envs/monitor.txt
	@echo "bench-monitor: creating $(BENCH_MONITOR_VENV)/ (benchmarks/envs/monitor.txt)"
	$(BIN)/uv venv --quiet --python $(BIN)/python $(BENCH_MONITOR_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(BENCH_MONITOR_VENV) $(BIN)/uv pip install --quiet --require-hashes -r benchmarks/envs/monitor.txt
	touch $@

.PHONY: bench-monitor
bench-monitor: setup ## Benchmark make monitor on 10M predictions x 10M labels (and 1M), beside Evidently and NannyML (~15 min)
	$(MAKE) $(BENCH_MONITOR_VENV)/.installed || echo "bench-monitor: the peers' venv could not be made; measuring without them"
	python -m benchmarks.monitoring

.PHONY: lock-bench-monitor
lock-bench-monitor: setup ## Re-pin benchmarks/envs/monitor.txt (bench-only; needs the network)
	uv pip compile benchmarks/envs/monitor.in --generate-hashes --python-version 3.11 -o benchmarks/envs/monitor.txt

.PHONY: bench-feedback
bench-feedback: setup ## Benchmark make feedback of 1,000,000 labels (refused whole, then imported) and make monitor over them
	python -m benchmarks.feedback_import

.PHONY: bench-regression
bench-regression: setup ## Benchmark the regressor against the classifier (batch) and a no-op server
	python -m benchmarks.regression

.PHONY: bench-reproduce
bench-reproduce: setup ## Benchmark make reproduce ALL=1 on five registered penguins versions (~15 min)
	python -m benchmarks.reproduce

.PHONY: bench-batch
bench-batch: setup ## Benchmark batch scoring: 1M rows vs a naive script and SQLite's floor, Dask+PostgreSQL, 10M rows (~10 min)
	python -m benchmarks.batch

# The model benchmark's references (FLAML, LightGBM, XGBoost, onnxmltools) and the packages
# whose data files are its tables live in their own venv, never in requirements.lock: the
# project's locked packages first, then benchmarks/envs/models.txt on top (same pins), then
# ISLP without its dependencies (torch & co.; only its CSV files are read).
BENCH_MODELS_VENV := .bench-venv-models
$(BENCH_MODELS_VENV)/.installed: $(VENV)/.installed requirements.lock benchmarks/envs/models.txt benchmarks/envs/models-data.txt
	@echo "bench-models: creating $(BENCH_MODELS_VENV)/ (the project's lock + benchmarks/envs/models*.txt)"
	$(PYTHON) -m venv $(BENCH_MODELS_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(BENCH_MODELS_VENV) $(BIN)/uv pip sync --quiet --require-hashes requirements.lock
	VIRTUAL_ENV=$(CURDIR)/$(BENCH_MODELS_VENV) $(BIN)/uv pip install --quiet --require-hashes -r benchmarks/envs/models.txt
	VIRTUAL_ENV=$(CURDIR)/$(BENCH_MODELS_VENV) $(BIN)/uv pip install --quiet --require-hashes --no-deps -r benchmarks/envs/models-data.txt
	VIRTUAL_ENV=$(CURDIR)/$(BENCH_MODELS_VENV) $(BIN)/uv pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

.PHONY: bench-models
bench-models: setup $(BENCH_MODELS_VENV)/.installed ## Benchmark model families vs HistGradientBoosting, LightGBM, FLAML on 7 packaged tables (~40 min)
	$(BENCH_MODELS_VENV)/bin/python -m benchmarks.models

.PHONY: lock-bench-models
lock-bench-models: setup ## Re-pin benchmarks/envs/models*.txt (bench-only; needs the network)
	uv pip compile benchmarks/envs/models.in -c requirements.lock --generate-hashes --python-version 3.11 -o benchmarks/envs/models.txt
	uv pip compile benchmarks/envs/models-data.in --no-deps --generate-hashes --python-version 3.11 -o benchmarks/envs/models-data.txt

##@ Development
# Test tiers (docs/testing.md; tests/conftest.py decides a test's tier). COV=1 also measures
# coverage of src/tabml (child processes included) into .coverage; `make coverage` reports it.
PYTEST_COV = $(if $(filter 1 yes true,$(COV)),--cov --cov-append --cov-report=)
# The data file is the checkout's wherever a test or its child processes run.
export COVERAGE_FILE := $(CURDIR)/.coverage

.PHONY: test
test: setup ## Default tiers: quick + integration (stages, CLI, servers, PostgreSQL; ~5 min on 2 cores)
	pytest -m "not slow" $(PYTEST_COV)

.PHONY: test-quick
test-quick: setup ## Quick tier: pure functions and the in-process runtime (~50 s on 2 cores)
	pytest -q -m "not slow and not integration" $(PYTEST_COV)

.PHONY: test-slow
test-slow: setup ## Slow tier: whole dvc repro/exp flows, README, Dask, retrain, own data, load (~40 min)
	pytest -m slow $(PYTEST_COV)

.PHONY: coverage
coverage: setup ## Report the coverage measured by `make test COV=1` (and test-slow), untested modules listed
	python .ci/coverage_report.py

.PHONY: reliability
reliability: setup ## Reliability suite: killed repro, corrupted data, tampered outputs, serving load/kill (slow)
	pytest -m slow tests/reliability -v

.PHONY: test-http-guards
test-http-guards: setup ## Hostile-client tests against a real server, heavy ones included (~45 s)
	pytest -m "slow or not slow" -s tests/reliability/test_http_guards.py

.PHONY: fuzz-serve
fuzz-serve: setup ## Bounded schemathesis run against a real server: no request may get a 5xx
	pytest -m slow -q "tests/service/test_schemathesis.py::test_no_generated_request_gets_a_server_error[long]"

.PHONY: browser
browser: ## Install Debian's Chromium for the dashboard's browser tests (as root: apt-get install chromium)
	@if command -v chromium >/dev/null; then echo "browser: $$(chromium --version 2>/dev/null)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "browser: needs root: sudo apt-get install -y chromium (or sudo make browser)"; exit 1; fi

.PHONY: audit
audit: setup ## Known vulnerabilities in requirements.lock (pip-audit); SKIPPED, not failed, offline
	python .ci/audit.py --requirement requirements.lock

.PHONY: lint
lint: setup ## Lint and check formatting with ruff; the layer rules with import-linter
	ruff check . && ruff format --check . && lint-imports

.PHONY: format
format: setup ## Format code and sort imports with ruff
	ruff check --fix . && ruff format .
