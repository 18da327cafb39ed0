# psc-idp — two commands: `make run` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
PORT   ?= 8080
NODE_E2E = tests/e2e/node

.PHONY: run test test-lowest lint bench bench-import bench-fhir install node-deps clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Serve http://localhost:$(PORT) with SQLite, generated keys and the demo realm.
## Without PSC_BASE_URL, the announced and advertised URLs follow PORT (PSC_PORT).
run: install
	PSC_DEV_MODE=$${PSC_DEV_MODE:-1} PSC_PORT=$(PORT) $(BIN)/psc-idp serve

## The whole suite (SQLite; also PostgreSQL when PSC_TEST_DATABASE_URL is set).
## PYTEST_ARGS narrows it (CI: the TZ=Europe/Paris run without the end-to-end tests).
test: install node-deps lint
	$(BIN)/pytest $(PYTEST_ARGS)

## The lowest allowed version of every dependency (pyproject floors), in a venv of its own,
## on the suite without its end-to-end tests: the floors must bring what the code imports.
LOWEST       ?= /tmp/psc-idp-lowest
LOWEST_TESTS ?= tests/protocol tests/ciba tests/means tests/http tests/observe tests/bus \
	tests/defend tests/test_purge_every_table.py
test-lowest:
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install --quiet --upgrade pip uv
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python \
		--resolution lowest-direct -e '.[test]'
	$(LOWEST)/bin/uv pip list --python $(LOWEST)/bin/python
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider -m "not e2e" $(LOWEST_TESTS)

lint: install
	$(BIN)/ruff check psc_idp tests bench

## npm ci once per lock file (a stamp in node_modules): two suites started together (CI)
## must not reinstall the folder under each other.
NODE_STAMP = $(NODE_E2E)/node_modules/.psc-installed
node-deps:
	@if command -v npm >/dev/null 2>&1 && [ -f $(NODE_E2E)/package.json ]; then \
		if [ ! -f $(NODE_STAMP) ] || [ $(NODE_E2E)/package-lock.json -nt $(NODE_STAMP) ]; then \
			(cd $(NODE_E2E) && npm ci --silent --no-audit --no-fund) && touch $(NODE_STAMP); \
		fi; \
	fi

## psc-idp beside node-oidc-provider under the same wrk load (docs/performance.md).
## Options: make bench BENCH_ARGS="--quick --scenarios jwks,userinfo --postgres".
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

## Annuaire Santé import of a 2-million-row synthetic file, then a re-import (ROWS=… to change).
bench-import: install
	$(BIN)/python bench/import_bench.py --rows $${ROWS:-2000000}

## FHIR read by id and search by identifier: 1,000 then 1,000,000 practitioners (BENCH_ARGS=…).
bench-fhir: install
	$(BIN)/python bench/fhir_bench.py $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache
