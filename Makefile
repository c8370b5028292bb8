# Two commands on a fresh machine (see README):
#   make course   -> sets up .venv and runs the course headless (notebooks 01-06) into runs/course
#   make test     -> sets up .venv with the test extras and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= smoke
OUT ?= runs/course

.PHONY: course test test-fast binder-check install install-dev benchmarks clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

course: $(VENV)/.installed
	$(BIN)/mammokit course --profile $(PROFILE) --out $(OUT) --overwrite

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

test-fast: $(VENV)/.installed-dev   # the edit loop: everything not marked slow (no notebooks, no training)
	$(BIN)/python -m pytest -m "not slow" mammokit tests

binder-check: $(VENV)/.installed-dev   # install Binder's pinned set into a fresh venv (~3 GB, minutes)
	$(BIN)/python -m pytest -m install tests/test_packaging.py

benchmarks: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) runs data/cache
