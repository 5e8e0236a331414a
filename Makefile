# Two commands, each doing all of its own set-up from a fresh clone:
#   make run    install the app's requirements into .venv and start the app
#   make test   install the test tools (and Debian's chromium) and run every test, in two
#               processes (pytest-xdist: tests/conftest.py says which tests stay together)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench bench-replicas bench-soak weights

run: $(VENV)/.installed-app
	MALLOC_ARENA_MAX=2 $(BIN)/python -m streamlit run app.py

test: $(VENV)/.installed-test /usr/bin/chromium /usr/sbin/nginx /usr/bin/node
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -n 2
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
	-nice -n 10 $(BIN)/python -m bench.classroom_training
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
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk

# The replicas-behind-nginx tests and benchmark run Debian's nginx with deploy/nginx.conf
# (RUNLEVEL=1: the package does not start its own server on port 80).
/usr/sbin/nginx:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq nginx

# Three replicas behind nginx under a 60-student load, losing one (bench/RESULTS.md).
bench-replicas: $(VENV)/.installed-test /usr/sbin/nginx
	nice -n 10 $(BIN)/python -m bench.replicas

# A long class in one server: RSS over 500 reruns and 30 sessions that come and go.
bench-soak: $(VENV)/.installed-test
	nice -n 10 $(BIN)/python -m bench.soak

# Put a torchvision ImageNet weight file (AlexNet, VGG-16, ResNet-18) where the app finds it:
#   make weights FILE=path/to/resnet18-f37072fd.pth
# It is checked first (read without running code, every weight's name and shape), then copied
# into $$CNNVIZ_WEIGHTS_DIR, or torch's cache (~/.cache/torch/hub/checkpoints) when that is unset.
weights: $(VENV)/.installed-app
	@test -n "$(FILE)" || { echo "Say which file: make weights FILE=path/to/resnet18-f37072fd.pth" >&2; exit 2; }
	$(BIN)/python -m cnnviz.models.install "$(FILE)"

# The front-end's logic tests (tests/frontend/) run in Debian's nodejs.
/usr/bin/node:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs
