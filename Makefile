# covkb — two commands on a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    set up, then run every named query with its explanation, then a one-screen summary
#   make test   set up, then run the test suite (all but the exhaustive engine sweep: make test-exhaustive)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup swipl java graphviz chromium curl postgresql compile compile-small run test test-fast test-exhaustive test-compiled bench serve run-service bench-service bench-web clean

setup: swipl java graphviz chromium curl postgresql $(VENV)/.installed

# SWI-Prolog from apt, only where it is missing.
swipl:
	@command -v swipl >/dev/null 2>&1 || { \
	  echo "installing SWI-Prolog (swi-prolog-nox) with apt"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swi-prolog-nox; }

# Java 17+ for Spark 4 (covkb batch --spark, its tests and bench), from apt, only where it is missing.
java:
	@java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || { \
	  echo "installing Java (openjdk-17-jre-headless) with apt"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }

# Graphviz's dot for the pictures (--format dot|svg renders with it), from apt, only where it is missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "installing Graphviz (graphviz) with apt"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; }

# Chromium for the browser tests (Playwright drives Debian's build: it cannot download its own here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Chromium (chromium) with apt"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# curl and jq for the README's service examples (tests/test_readme_examples.py runs them), only where missing.
curl:
	@command -v curl >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 || { \
	  echo "installing curl and jq with apt"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl jq; }

# PostgreSQL's server programs for the store's tests (tests/postgres.py: a throwaway initdb cluster on a
# Unix socket; nothing is started here), from apt, only where initdb is missing (Debian keeps it off PATH)
postgresql:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL (postgresql) with apt"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "covkb needs Python 3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@# bytecode now: an editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE every start would
	$(BIN)/python -m compileall -q pyapi >/dev/null
	@touch $@

# Decisions compiled ahead of time (covkb compile, docs/performance.md): every version's table, built by both
# engines and checked equal; a table already current is kept, so only a changed version is built again.  The
# whole space (about 830,000 projections) takes tens of minutes on 2 cores, so make run and make test build only
# the versions of up to COMPILE_SMALL scenarios (seconds); `make compile` builds them all.
COMPILE_SMALL ?= 1000
compile: setup
	$(BIN)/covkb compile

compile-small: setup
	$(BIN)/covkb compile --max-scenarios $(COMPILE_SMALL)

# every named query of every installed policy, the default policy first, then a one-screen summary
run: setup compile-small
	@for p in $$($(BIN)/python -c 'from covkb.policy import Policy, policy_folders; d = Policy().folder; \
	    print(*sorted((p.name for p in policy_folders()), key=lambda n: n != d.name))'); do \
	  $(BIN)/covkb query --all --policy $$p || exit 1; done
	@$(BIN)/covkb query --summary

# the HTTP API and CDS Hooks on 127.0.0.1:8000 (PORT=..., WORKERS=...) until Ctrl-C
PORT ?= 8000
WORKERS ?= 0
# to try it on this machine: 127.0.0.1 only and without authentication (it says so on start); a real
# deployment gives --trusted-issuers and registers its clients (docs/service.md)
serve: setup
	$(BIN)/covkb serve --port $(PORT) --workers $(WORKERS) --no-auth

# start a server on a free port, run the CRD examples (queries/fhir) on both engines, stop it
run-service: setup
	$(BIN)/python bench/service.py --examples-only

# latency, throughput and faults of the service, both serve modes (bounded: about 4 minutes);
# BENCH_ARGS=--compare-gunicorn: only covkb serve beside gunicorn + uvicorn workers, interleaved (5-10 minutes)
bench-service: setup
	@$(BIN)/python -c 'import gunicorn, uvicorn_worker' 2>/dev/null || $(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/service.py $(BENCH_ARGS)

# page weight and first paint of the web pages in headless Chromium (about a minute)
bench-web: setup
	$(BIN)/python bench/web.py

# The tests in three tiers, each over every CPU with pytest-xdist (TEST_WORKERS=0: in this one process).
# pyproject.toml's addopts leave the exhaustive tests out unless -m asks for them; pytest exits 5, and make
# fails, when no test is selected.
#   test             every test but the exhaustive sweep, with engine agreement on the frozen corpus and a
#                    fresh random sample (COVKB_SAMPLE_SEED=... draws a sample again, COVKB_SAMPLE_SIZE=...
#                    scenarios per version); each test file runs whole on one worker (--dist loadfile), so a
#                    module's servers, browser or Spark cluster start once, the longest files first
#                    (tests/conftest.py orders them; --no-loadscope-reorder keeps that order)
#   test-fast        the edit loop: the tests not marked slow (no servers, browsers, Spark), real engines
#   test-exhaustive  the two engines on every scenario of every version, in shards spread over the workers
#                    as they come free (--dist worksteal: with --dist load, xdist queued the last shards on
#                    one worker while the other sat idle, 15 minutes of a 28-minute run); CI runs it after
#                    make test
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS)

test: setup compile-small
	$(PYTEST) --dist loadfile --no-loadscope-reorder

test-fast: setup
	$(PYTEST) --dist loadfile --no-loadscope-reorder -m "not slow and not exhaustive"

test-exhaustive: setup
	$(PYTEST) --dist worksteal -m exhaustive

# every compiled-table entry against both engines, not one scenario in 64 (tests/test_compiled.py; hours)
test-compiled: setup
	COVKB_COMPILED_FULL=1 $(PYTEST) --dist worksteal -m exhaustive tests/test_compiled.py

# latency, batch, diff, cold start (bench/run.py, about 4 minutes); then each fast path beside the standard
# path it shortcuts, A/B in the same run (bench/fast_paths.py, about 5 minutes; docs/performance.md)
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/fast_paths.py
	$(BIN)/python bench/compiled.py
	$(BIN)/python bench/score.py

clean:
	rm -rf $(VENV) .pytest_cache bench/results
