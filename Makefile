# Kitobxon: `make run` serves the demo library, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KITOBXON := $(BIN)/kitobxon
HOST ?= 127.0.0.1
PORT ?= 8000
LANGUAGES := uz uz_Cyrl kaa ru en
PYTEST_WORKERS ?= 2
BENCH_RECORDS ?= 100000
BENCH_SEARCH_RECORDS ?= 100000

.PHONY: run install test check bench fmt lock messages translations clean

run: install ## set everything up and serve the demo library
	$(KITOBXON) migrate --no-input
	$(KITOBXON) demo
	@echo "Open http://$(HOST):$(PORT)/ — the demo logins are listed above."
	$(KITOBXON) serve --host $(HOST) --port $(PORT)

install: $(VENV)/.installed node_modules/.installed translations

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

translations: $(VENV)/.installed ## compile locale/*.po into .mo files
	$(KITOBXON) manage compiletranslations

messages: $(VENV)/.installed ## collect new user-facing strings into locale/*.po
	$(KITOBXON) manage makemessages --no-obsolete --no-location --ignore='.venv/*' \
		--ignore='node_modules/*' --ignore='var/*' $(addprefix -l ,$(LANGUAGES))

test: install ## the whole suite (SQLite unless KITOBXON_TEST_DATABASE_URL is set)
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

check: install ## linters, types, layers, migrations, translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(KITOBXON) manage makemigrations --check --dry-run
	$(KITOBXON) manage checktranslations

bench: install ## benchmarks under bench/ (BENCH_RECORDS=1000000 for the full import figure)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/catalogue_import.py --records $(BENCH_RECORDS) \
		--postgres postgres://postgres@127.0.0.1:5432
	$(BIN)/python bench/openlibrary_agreement.py
	$(BIN)/python bench/relevance.py --backend tantivy
	$(BIN)/python bench/search.py --records $(BENCH_SEARCH_RECORDS) --backend all
	$(BIN)/python bench/circulation.py --database all
	$(BIN)/python bench/digital.py --json var/bench/digital.json
	$(BIN)/python bench/protocols.py --records $(BENCH_RECORDS) --json var/bench/protocols.json
	$(BIN)/python bench/protocols_harvest.py
	$(KITOBXON) manage circulation_evergreen
	$(BIN)/python bench/ledger.py --database all --json var/bench/ledger.json

fmt: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: $(VENV)/.installed ## re-pin every dependency after editing pyproject.toml
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) node_modules var
