# Trade Pilot — developer and CI entry points.
#
# A fresh machine needs only Python 3.11+ and make: the first target that needs the virtualenv finds uv on
# PATH (or installs it from PyPI into tools/, which is gitignored) and runs `uv sync --frozen` into .venv.
#
#   make demo        run the platform with demo data (port from $PORT, handled by `tradepilot demo`)
#   make test        whole suite on SQLite, then (all but browser tests) on a throw-away PostgreSQL server
#   make lint        ruff check
#   make bench       benchmarks/import_bench.py, analytics_bench.py and governance_bench.py with the virtualenv's python
#   make messages    compile translations (skipped when gettext's msgfmt is missing)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# What pip installs when uv has to be bootstrapped (e.g. `make UV_SPEC='uv==0.9.5'` to pin it).
UV_SPEC ?= uv
TOOLS_DIR := $(CURDIR)/tools
UV_LOCAL := $(TOOLS_DIR)/uv/bin/uv
UV_FOUND := $(shell command -v uv 2>/dev/null)
# uv from PATH, else the one bootstrapped into tools/ (installed on first use by the rule below).
UV ?= $(if $(UV_FOUND),$(UV_FOUND),$(UV_LOCAL))
UV_BOOTSTRAP := $(if $(filter $(UV_LOCAL),$(UV)),$(UV_LOCAL),)
VENV_PYTHON := .venv/bin/python

# Use the machine's Python; never download a toolchain.
export UV_PYTHON_DOWNLOADS ?= never
# Compile bytecode at install: processes start faster (the analytics worker's first refresh imports pyarrow and
# pandas), also where the environment forbids writing .pyc files at run time.
export UV_COMPILE_BYTECODE ?= 1

PYTEST_SQLITE = $(UV) run --frozen pytest
PYTEST_POSTGRES = $(UV) run --frozen python -m tradepilot.testing.postgres -- pytest -m "not browser"

.PHONY: help demo test test-sqlite test-postgres lint bench messages

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

# --- bootstrap ------------------------------------------------------------------------------------------------

# pip --target works with pip present even where the user site is not writable (or the interpreter is
# "externally managed", PEP 668); a private venv is the fallback when python has no usable pip.
$(UV_LOCAL):
	@echo "uv not found on PATH; installing $(UV_SPEC) from PyPI into $(TOOLS_DIR)"
	@rm -rf "$(TOOLS_DIR)/uv" "$(TOOLS_DIR)/venv"
	@export PIP_USER=0 PIP_REQUIRE_VIRTUALENV=0 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore; \
	if $(PYTHON) -m pip --version >/dev/null 2>&1 \
	    && $(PYTHON) -m pip install --quiet --target "$(TOOLS_DIR)/uv" '$(UV_SPEC)' \
	    && [ -x "$(UV_LOCAL)" ]; then \
	    :; \
	else \
	    echo "pip --target did not work; trying a private venv in $(TOOLS_DIR)/venv"; \
	    rm -rf "$(TOOLS_DIR)/uv"; \
	    $(PYTHON) -m venv "$(TOOLS_DIR)/venv" \
	    && "$(TOOLS_DIR)/venv/bin/python" -m pip install --quiet '$(UV_SPEC)' \
	    && mkdir -p "$(TOOLS_DIR)/uv/bin" \
	    && ln -sf ../../venv/bin/uv "$(UV_LOCAL)" \
	    || { echo "error: could not install uv with $(PYTHON); install uv (https://docs.astral.sh/uv/) and retry" >&2; \
	         rm -rf "$(TOOLS_DIR)/uv" "$(TOOLS_DIR)/venv"; exit 1; }; \
	fi
	@"$(UV_LOCAL)" --version

.venv/.synced: pyproject.toml uv.lock | $(UV_BOOTSTRAP)
	$(UV) sync --frozen
	@touch $@

# --- targets --------------------------------------------------------------------------------------------------

demo: .venv/.synced
	$(UV) run --frozen tradepilot demo

# Both passes always run; the target fails if either failed.
test: .venv/.synced
	@status=0; \
	echo "=== make test: pass 1/2, SQLite (all tests)"; \
	$(PYTEST_SQLITE) || status=1; \
	echo "=== make test: pass 2/2, PostgreSQL (all tests but browser tests)"; \
	$(PYTEST_POSTGRES) || status=1; \
	if [ $$status -ne 0 ]; then echo "=== make test: FAILED (see the passes above)" >&2; fi; \
	exit $$status

test-sqlite: .venv/.synced
	$(PYTEST_SQLITE)

test-postgres: .venv/.synced
	$(PYTEST_POSTGRES)

lint: .venv/.synced
	$(UV) run --frozen ruff check

# ANALYTICS_BENCH_ARGS: e.g. --quick for a smoke run of a few minutes (the full run generates 50M lines, cached
# in var/bench/analytics-data, and takes most of an hour the first time).
ANALYTICS_BENCH_ARGS ?=

bench: .venv/.synced
	$(VENV_PYTHON) benchmarks/import_bench.py
	$(VENV_PYTHON) benchmarks/analytics_bench.py $(ANALYTICS_BENCH_ARGS)
	$(VENV_PYTHON) benchmarks/governance_bench.py

# compilemessages needs no secret: dev mode spares it the production settings' SECRET_KEY check. It walks the
# tree for locale/ directories, so the virtualenv and tools/ (Django's own catalogues) are left out.
messages: .venv/.synced
	@if command -v msgfmt >/dev/null 2>&1; then \
	    set -x; TRADEPILOT_MODE=$${TRADEPILOT_MODE:-dev} \
	    $(UV) run --frozen tradepilot compilemessages --ignore=.venv --ignore=tools --ignore=node_modules; \
	else \
	    echo "msgfmt (GNU gettext) not found; skipping compilemessages"; \
	fi
