# The two commands of the quick start: `make run` and `make test`.
# Each creates or refreshes .venv itself, so a fresh clone needs nothing else.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck unit bench native clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[native]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $@ $(VENV)/.run-installed

# The pipeline's hot modules compiled with mypyc (declarations/_native.py), rebuilt when a
# source of declarations/ changes. Without a C compiler the sources run, only slower.
NATIVE := declarations/_native.json
$(NATIVE): $(wildcard declarations/*.py declarations/rules/*.py) tools/build_native.py | $(VENV)/.run-installed
	$(BIN)/python tools/build_native.py

native: $(NATIVE)

run: $(VENV)/.run-installed $(NATIVE)
	$(BIN)/danchuang serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# pytest exits 5 when it collected nothing; that is not a failure of the code under test.
# With a compiled build, the core's tests run once more on the sources it was built from.
unit: $(VENV)/.dev-installed $(NATIVE)
	$(BIN)/pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]
	if [ -f $(NATIVE) ] && [ -z "$(PYTEST_ARGS)" ]; then \
		DANCHUANG_NATIVE=0 $(BIN)/pytest -q tests/declarations; fi

test: lint typecheck unit

bench: $(VENV)/.dev-installed $(NATIVE)
	$(BIN)/python benchmarks/validate.py
	$(BIN)/python benchmarks/simulate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build $(NATIVE)
	find . -path ./.venv -prune -o -name '*.so' -print -delete
