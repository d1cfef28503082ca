# Every target creates .venv on first use. The constraints reach pip's isolated
# build environments only through these variables (see Installation in README).
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_BUILD_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck bench bench-original soak tox dist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# `make run` needs only the package and gunicorn: a quick first start on a fresh clone.
$(VENV)/.run-installed: setup.py constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -e ".[server]"
	touch $@

# Everything else gets the test extra too (pytest, servers, linters, Flask and Django),
# which includes what `make run` needs.
$(VENV)/.installed: setup.py constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -e ".[test]"
	touch $@ $(VENV)/.run-installed

# gunicorn 27 opens a control socket under ~/.gunicorn unless told not to; older ones
# (Python 3.9 gets 23) have no such option.
NO_CONTROL_SOCKET = $(shell $(BIN)/gunicorn --help 2>/dev/null | grep -qe --no-control-socket && echo --no-control-socket)

run: $(VENV)/.run-installed  ## serve the example bot under gunicorn
	$(BIN)/gunicorn $(NO_CONTROL_SOCKET) --bind $(HOST):$(PORT) --pythonpath examples bot:app

test: $(VENV)/.installed  ## lint, the whole suite, then the type check
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	$(BIN)/python -m mypy

lint: $(VENV)/.installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/python -m mypy

bench: $(VENV)/.installed  ## in-process, hostile bodies, concurrency (ASGI), stores, operations
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks adversarial
	$(BIN)/python -m benchmarks concurrency
	$(BIN)/python -m benchmarks.deliveries
	$(BIN)/python -m benchmarks operations

# The original clustaar.webhook 0.1.7, in a venv of its own. Its clustaar.schemas==1.0.9 pin
# does not install on Python 3.11, so its dependencies are named here (schemas 1.10) and the
# package itself goes in with --no-deps; it imports pkg_resources, hence setuptools.
ORIGINAL := .venv-original
$(ORIGINAL)/.installed: constraints.txt
	rm -rf $(ORIGINAL)
	$(PYTHON) -m venv $(ORIGINAL)
	$(ORIGINAL)/bin/pip install "falcon~=3.0.1" "ujson~=1.35" "jmespath~=0.9.3" \
		"python-dateutil~=2.7.3" "clustaar.schemas==1.10.0" "setuptools>=75.8.2,<80.9"
	$(ORIGINAL)/bin/pip install --no-deps clustaar.webhook==0.1.7
	touch $@

bench-original: $(VENV)/.installed $(ORIGINAL)/.installed  ## ours against the original 0.1.7, one interleaved run
	$(BIN)/python -m benchmarks original

soak: $(VENV)/.installed
	$(BIN)/python -m benchmarks.load --seconds 60

.PHONY: mutation
mutation: $(VENV)/.installed  ## mutants of the verification modules against their tests, and the score
	$(BIN)/python tools/mutation.py

tox: $(VENV)/.installed
	$(BIN)/python -m pip install -q "tox>=4"
	$(BIN)/tox

dist: | $(BIN)/python  ## build the sdist and the wheel into dist/
	$(BIN)/python -m pip install -q "build>=1"
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) .venv-original .tox build dist *.egg-info .mypy_cache .pytest_cache .hypothesis
