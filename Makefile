# GovSocial: `make run` serves the app with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := $(CURDIR)/.tools
BUN := $(TOOLS)/node_modules/.bin/bun
# Deque's accessibility engine, which the browser tests inject into every page (tests/browser/test_accessibility.py)
AXE := $(TOOLS)/node_modules/axe-core/axe.min.js
NPM_TOOLS := bun@1.4.4 axe-core@4.14.1
PORT ?= 3000
# Demo mode's accounts share a published password: `make run` listens on this machine only unless told otherwise
# (make run HOST=0.0.0.0 to show the demo on your network).
HOST ?= 127.0.0.1

# Reflex must make no network calls but the package registries (see README.md).
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_HTTP_CLIENT_BIND_ADDRESS := 0.0.0.0
export REFLEX_USE_GRANIAN := 1
export PATH := $(TOOLS)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run run-prod jobs test test-fast lint-imports deps chromium clean-data \
	bench-inbox bench-presence bench-ingest bench-pause bench-crash bench-alert bench-report bench-load bench-cap bench-signin bench-records bench-replies bench-paint bench-frame-paint bench-partitions

deps: $(VENV)/.installed $(BUN) $(AXE)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# One npm install for every tool: a later install of one package alone would prune the others.
$(BUN) $(AXE):
	@mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --no-save --no-audit --no-fund --loglevel=error $(NPM_TOOLS)

## Embedded mode: SQLite, the simulator and the jobs inside one process on http://127.0.0.1:3000
run: deps
	$(PY) -m govsocial_app.cli migrate
	$(PY) -m govsocial_app.cli seed
	$(PY) -m govsocial_app.cli banner
	GOVSOCIAL_PORT=$(PORT) $(VENV)/bin/reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT) --backend-host $(HOST)

chromium:
	@{ command -v chromium && command -v pdftoppm && command -v nginx && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core fonts-dejavu-core poppler-utils nginx-light >/dev/null; \
	  else echo "Missing system packages: apt-get install chromium fonts-dejavu-core poppler-utils nginx-light"; exit 1; fi; }

## Production mode on this machine: PostgreSQL + Redis, the web workers and one separate jobs process
run-prod: deps
	@test -n "$$DATABASE_URL" && test -n "$$REDIS_URL" || { echo "run-prod needs DATABASE_URL (PostgreSQL) and REDIS_URL: see README.md, Going to production"; exit 2; }
	export GOVSOCIAL_MODE=$${GOVSOCIAL_MODE:-production} GOVSOCIAL_EMBEDDED_JOBS=0 REFLEX_LOG_JSON=1; \
	$(PY) -m govsocial_app.cli migrate && \
	{ $(PY) -m jobs & jobs_pid=$$!; trap 'kill -TERM $$jobs_pid 2>/dev/null; wait $$jobs_pid' EXIT INT TERM; \
	  GOVSOCIAL_PORT=$(PORT) $(VENV)/bin/reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT); }

## The jobs process alone (exactly one schedules; a second waits as a hot standby)
jobs: deps
	GOVSOCIAL_EMBEDDED_JOBS=0 $(PY) -m jobs

## The whole suite: the architecture contracts (pyproject.toml [tool.importlinter]), then unit, state, connector,
## peer and browser tests. A broken contract fails it before any test runs.
# Two workers (pytest-xdist): the peers stay together on one worker, in order; the browser tests run last, in two
# groups balanced by measured time, one per worker, each worker with its own live app (tests/conftest.py groups them);
# everything else is shared out. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: deps chromium lint-imports
	$(PY) -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup) --durations=25 tests

## Import contracts: layers, no reflex in services, standalone connectors, domain directions, no import cycles
lint-imports: deps
	$(VENV)/bin/lint-imports

## Everything but the browser and peer tests
test-fast: deps lint-imports
	$(PY) -m pytest -q tests -m "not browser and not peers"

clean-data:
	rm -rf data

## Benchmarks: each prints one JSON object as its last line
bench-inbox: deps
	$(PY) -m tests.bench.bench_inbox

bench-replies: deps
	$(PY) -m tests.bench.bench_replies

bench-presence: deps chromium
	$(PY) -m tests.bench.bench_presence

bench-signin: deps chromium
	$(PY) -m tests.bench.bench_signin

## Lighthouse 13 mobile on the signed-in inbox (prod build, as `make run` serves it) against a static floor; installs
## Lighthouse and the Node 22 it needs from npm into .tools/lighthouse on first use. BENCH_PAINT_URL measures a running app.
bench-paint: deps chromium
	$(PY) -m tests.bench.bench_paint

## The inbox's first paint with and without its loading frame, in Chromium throttled by DevTools (slow 4G, 4x CPU).
bench-frame-paint: deps chromium
	$(PY) -m tests.bench.bench_frame_paint

bench-ingest: deps
	$(PY) -m tests.bench.bench_ingest

## PostgreSQL: `cli partitions enable` and `disable` on 1,000,000 messages (BENCH_PARTITIONS_MESSAGES), against a plain copy.
bench-partitions: deps
	$(PY) -m tests.bench.bench_partitions

bench-alert: deps
	$(PY) -m tests.bench.bench_alert

bench-report: deps
	$(PY) -m tests.bench.bench_report

bench-pause: deps
	$(PY) -m tests.bench.bench_pause

bench-crash: deps
	$(PY) -m tests.bench.bench_crash

bench-load: deps
	$(PY) -m tests.bench.bench_load

## CAP library floor (parse only) and in-process pipeline; the poll-to-push bench comes with the wiring
bench-cap: deps
	$(PY) -m tests.bench.bench_cap
	$(PY) -m tests.bench.bench_cap_e2e

## The public record: a 10,000-record request exported (ZIP with PDF), verify-audit over 1,000,000 rows
bench-records: deps
	$(PY) -m tests.bench.bench_records
