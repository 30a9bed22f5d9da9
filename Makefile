# The IOP clinic. Quickstart: `make run` (demo clinic at http://127.0.0.1:8000/) and `make test`.
# Needs only Python 3.11 and Node on a fresh machine; see docs/decisions/0001-runtime-and-ci.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
BOOTSTRAP_PYTHON := $(shell command -v python3.11 || command -v python3)
REQS_STAMP := $(VENV)/.requirements.stamp
DEV_REQS_STAMP := $(VENV)/.requirements-dev.stamp
NODE_STAMP := node_modules/.npm-ci.stamp
PYTEST_ARGS ?=

# Embedded mode (make run) runs with DEBUG on unless the environment or .env says otherwise.
ifeq ($(origin DJANGO_DEBUG),undefined)
ifeq ($(shell grep -s '^DJANGO_DEBUG=' .env),)
run demo: export DJANGO_DEBUG := true
endif
endif

# `make check` runs the deployment checks as production would (no DEBUG, a real-looking key).
check: export DJANGO_DEBUG := false
check: export DJANGO_ALLOWED_HOSTS ?= clinic.example.org
check: export DJANGO_SECRET_KEY ?= $(shell $(BOOTSTRAP_PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))')
# ... and a throwaway audit checkpoint key and sink, as production must configure both.
CHECK_AUDIT_DIR := $(shell mktemp -u /tmp/iop-check-audit.XXXXXX)
check: export AUDIT_CHECKPOINT_KEY_FILE ?= $(CHECK_AUDIT_DIR)/checkpoint-key.pem
check: export AUDIT_CHECKPOINT_SINKS ?= file://$(CHECK_AUDIT_DIR)/checkpoints.jsonl

.PHONY: help run demo test lint imports check clean

help:
	@echo "make run     set up, migrate, seed the demo clinic once, start web + Celery worker/beat"
	@echo "make test    run the whole pytest suite (PYTEST_ARGS=... to pass options)"
	@echo "make lint    ruff check + import-linter contracts"
	@echo "make check   makemigrations --check and check --deploy with production settings"
	@echo "make bench   benchmark every page on the reference workload (BENCH_SCALE=0.1 for a quick run)"
	@echo "make clean   remove the venv, node_modules, local database, broker folder, static build"

# --- Environment --------------------------------------------------------------------------

$(PY):
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(REQS_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -r requirements.txt
	touch $@

$(DEV_REQS_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -r requirements-dev.txt
	touch $@ $(REQS_STAMP)

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Only when the lock file is missing: afterwards it is committed and `npm ci` follows it exactly.
package-lock.json:
	npm install --package-lock-only --no-audit --no-fund

# --- Embedded clinic ----------------------------------------------------------------------

# The demo is seeded the first time only; its logins are kept in .demo-seeded and shown again on
# every later run. A deleted SQLite database (or `make clean`) seeds a fresh demo next time.
# The embedded clinic's local settings, made once: development mode and a random key, so
# `manage.py` commands work without exporting anything. Never used in production (git-ignored).
.env:
	@printf '# Made by `make run` for the embedded clinic (see .env.example). Not for production.\nDJANGO_DEBUG=true\nDJANGO_SECRET_KEY=%s\n' "$$($(BOOTSTRAP_PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env for the embedded clinic (DJANGO_DEBUG=true, a random secret key)."

demo: .env $(REQS_STAMP) $(NODE_STAMP)
	@# A new SQLite database starts a new audit chain: its old checkpoint log goes with it.
	@if [ -z "$${DATABASE_URL:-}" ] && [ ! -s db.sqlite3 ]; then rm -f .demo-seeded .audit/checkpoints-db.jsonl; fi
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	@if [ ! -f .demo-seeded ]; then \
		$(MANAGE) seed_demo | tee .demo-seeded.tmp && mv .demo-seeded.tmp .demo-seeded; \
	else \
		echo "Demo clinic already seeded (delete .demo-seeded to seed again). Logins:"; \
		sed "s#Sign in at http://[^ ]*#Sign in at http://$${RUN_DEV_HOST:-127.0.0.1}:$${PORT:-8000}/#" .demo-seeded; \
	fi

run: demo
	exec bin/run-dev

# --- Quality ------------------------------------------------------------------------------

test: $(DEV_REQS_STAMP) $(NODE_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

imports: $(DEV_REQS_STAMP)
	$(VENV)/bin/lint-imports

lint: $(DEV_REQS_STAMP) imports
	$(VENV)/bin/ruff check .

check: $(REQS_STAMP) $(NODE_STAMP)
	@[ -f "$$AUDIT_CHECKPOINT_KEY_FILE" ] || $(MANAGE) audit_checkpoint_key --generate "$$AUDIT_CHECKPOINT_KEY_FILE" >/dev/null
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) node_modules staticfiles .broker .audit .ruff_cache .import_linter_cache .pytest_cache .hypothesis test-results
	rm -f db.sqlite3 .test-db.sqlite3* .demo-seeded .demo-seeded.tmp

# --- Benchmark (make bench; README "Benchmark") -------------------------------------------

# The reference workload on PostgreSQL (built once per scale, then reused), gunicorn with 2 sync
# workers and DEBUG off, every page against the bare view. BENCH_SCALE=0.1 for a quick run.
BENCH_SCALE ?= 1
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/iop_bench$(if $(filter 1 1.0,$(BENCH_SCALE)),,_s$(subst .,_,$(BENCH_SCALE)))
BENCH_ARGS ?=

.PHONY: bench
bench: $(DEV_REQS_STAMP) $(NODE_STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	$(MANAGE) bench --scale $(BENCH_SCALE) $(BENCH_ARGS)
	# The daily draw for one site of 5,000 active patients, its checkpoint and verification (ADR 0011).
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_DEBUG=false BENCH_BARE_VIEW=true \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	$(MANAGE) bench_draw --patients 5000
