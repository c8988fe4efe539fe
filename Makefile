# SkypeMgr: `make run` serves the whole product; `make test` runs every check CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export SSL_CERT_FILE ?= /etc/ssl/certs/ca-certificates.crt
PYTHON ?= python3
UV := $(PYTHON) -m uv
PY := .venv/bin/python
LAUNCH := $(PY) -m skypemgr.launch
# check --deploy runs against production values; none of them is a real secret.
PRODUCTION_ENV := DEBUG=false SITE_URL=https://skypemgr.example ALLOWED_HOSTS=skypemgr.example \
	SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')

.PHONY: help setup run manage test lint checks pytest bench clean

help:
	@echo "make run          set up, migrate, load demo data once, serve web + worker + beat"
	@echo "make manage ARGS=\"createsuperuser\""
	@echo "                  run manage.py against the database and Redis of make run"
	@echo "make test         set up, start what is missing, run linters, checks and every test"
	@echo "make bench        run the benchmarks under bench/"

setup: .venv/.synced locale/fr/LC_MESSAGES/django.mo

# Groups: dev (tests, linters) and embedded (the PostgreSQL and Redis that run and test start
# when none is configured). The production image installs neither (Dockerfile).
.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python 3.12 --group dev --group embedded
	@touch $@

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po .venv/.synced
	.venv/bin/pybabel compile --domain django --directory locale --locale $* --statistics

run: setup
	$(LAUNCH) run

# Same database and Redis as `make run` (joined when it is running, started otherwise).
manage: setup
	$(LAUNCH) manage $(ARGS)

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

checks: setup
	$(PRODUCTION_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=true $(LAUNCH) exec -- $(PY) manage.py makemigrations --check --dry-run

pytest: setup
	$(LAUNCH) exec -- $(PY) -m pytest $(PYTEST_ARGS)

test: lint checks pytest

bench: setup
	$(LAUNCH) exec -- $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf .venv .data
