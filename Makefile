# Two commands, each doing all of its own set-up from a fresh clone:
#   make run    install the app's requirements into .venv and start the app
#   make test   install the test tools (and Debian's chromium) and run every test
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench

run: $(VENV)/.installed-app
	$(BIN)/python -m streamlit run app.py

test: $(VENV)/.installed-test /usr/bin/chromium /usr/bin/node
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest
	node --test tests/frontend/

# Benchmarks (see bench/RESULTS.md), niced: the machine is shared. Each prints its table;
# one that misses a goal or sees errors does not stop the others.
bench: $(VENV)/.installed-test /usr/bin/chromium
	-nice -n 10 $(BIN)/python -m bench.engine
	-nice -n 10 $(BIN)/python -m bench.cold_start
	-nice -n 10 $(BIN)/python -m bench.latency
	-nice -n 10 $(BIN)/python -m bench.element_costs
	-nice -n 10 $(BIN)/python -m bench.memory
	-nice -n 10 $(BIN)/python -m bench.classroom
	-nice -n 10 $(BIN)/python -m bench.drag

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check . && $(BIN)/python -m ruff format --check .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-app: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-test.txt
	touch $@ $(VENV)/.installed-app

# Browser tests drive Debian's chromium through the playwright package (never
# `playwright install`: browsers cannot be downloaded here).
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The front-end's logic tests (tests/frontend/) run in Debian's nodejs.
/usr/bin/node:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs
