# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
ADMIN_PORT ?= 8001
SITE_PORT ?= 8080
# The embedded graph `make run` starts: falkordb, or neo4j (built with Maven the first time), each with its own data dir
# so that uploads recorded for one graph are never listed against the other.
GRAPH ?= $(or $(BEUWI_EMBEDDED_GRAPH),falkordb)
DATA_DIR ?= $(if $(filter neo4j,$(GRAPH)),var/neo4j-product,var)

.PHONY: run test install install-test system-packages java clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed node_modules/.installed system-packages java
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# From Debian: Chromium for the browser tests (a test tool's own browser download does not work here), nginx for
# the load-balancer test, wrk for `beuwi bench`. Installed only when one is missing.
SYSTEM_PACKAGES := chromium nginx-light wrk
system-packages:
	@command -v chromium >/dev/null && command -v nginx >/dev/null && command -v wrk >/dev/null || { \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); }

# From Debian: a Java 17 JDK and Maven for the embedded Neo4j (the tests' Neo4j, and `make run GRAPH=neo4j`), which builds its
# launcher with Maven on first use. Installed only when one is missing.
java:
	@command -v javac >/dev/null && command -v mvn >/dev/null || { \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven; }

# firebase-tools, for the Firebase Auth emulator the tests start.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install $(if $(filter neo4j,$(GRAPH)),java)
	BEUWI_EMBEDDED_GRAPH=$(GRAPH) BEUWI_DATA_DIR=$(DATA_DIR) $(BIN)/beuwi dev --host $(HOST) --port $(PORT) --admin-port $(ADMIN_PORT) --site-port $(SITE_PORT) --seed uploads/sample-catalogue.csv

test: install-test
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .hypothesis
