# Two commands on a fresh machine (see README):
#   make course   -> sets up .venv and runs the course headless (notebooks 01-06) into runs/course
#   make test     -> sets up .venv with the test extras and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= smoke
OUT ?= runs/course

.PHONY: course test install install-dev benchmarks clean

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

benchmarks: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) runs data/cache
