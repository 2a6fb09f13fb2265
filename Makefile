# Credits: `make run` starts the app, `make test` runs the suite. Both set everything up
# on a fresh clone (python3 3.11+, npm and make are all they need) and are fast to repeat.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
BUN_VERSION := 1.4.5
NODE_VERSION := 22.23.3
BUN := $(TOOLS)/node_modules/.bin/bun
NODE := $(TOOLS)/node_modules/.bin/node
STAMP := $(VENV)/.requirements-installed

# Offline-friendly Reflex: use our bun and node from the npm registry, never download.
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_USE_SYSTEM_NODE := 1
export NPM_CONFIG_REGISTRY ?= https://registry.npmjs.org/
export REFLEX_TELEMETRY_ENABLED := false
export TELEMETRY_ENABLED := false

.PHONY: help setup run run-prod test lint format migrate stripe-sim bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(BUN):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) bun@$(BUN_VERSION) node@$(NODE_VERSION)

setup: $(STAMP) $(BUN)  ## create .venv, install Python packages, bun and node

migrate: setup  ## apply database migrations
	$(PY) -m credits_app migrate

run: migrate  ## start the app (SQLite, simulated payments) at http://localhost:3000
	$(PY) -m credits_app run

# e.g. make run-prod DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://... WORKERS=2
# (command-line variables reach the command's environment; BACKEND_ONLY=1 serves no pages)
run-prod: setup  ## production mode: migrate, check secrets, serve on PORT with WORKERS
	$(PY) -m credits_app run-prod $(if $(BACKEND_ONLY),--backend-only)

stripe-sim: setup  ## start the Stripe simulator alone
	$(PY) -m credits_app stripe-sim

# The suite runs as a few pytest processes (tests/support/suite.py says why); naming paths in
# PYTEST_ARGS runs just those, in one.
test: setup  ## run the whole test suite
	$(PY) -m tests.support.suite $(PYTEST_ARGS)

lint: setup  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup  ## format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: migrate  ## run every benchmark in bench/
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:  ## remove the venv, the toolchain and build output (keeps data/)
	rm -rf $(VENV) $(TOOLS) .web .states
