# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
ADMIN_PORT ?= 8001
SITE_PORT ?= 8080

.PHONY: run test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed node_modules/.installed /usr/bin/chromium
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# The browser tests drive Debian's Chromium (a test tool's own browser download does not work here).
/usr/bin/chromium:
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends chromium

# firebase-tools, for the Firebase Auth emulator the tests start.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/beuwi dev --host $(HOST) --port $(PORT) --admin-port $(ADMIN_PORT) --site-port $(SITE_PORT) --seed uploads/sample-catalogue.csv

test: install-test
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .hypothesis
