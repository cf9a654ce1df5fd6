# One-command entry points: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench chaos

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/rocketjob demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

# The tests that may share the machine on two processes, then the timing-bound ones alone;
# pytest exits 5 when a run collects no test, and make stops on it like on any failure.
test: lint
	$(BIN)/pytest -n 2 -m "not serial"
	$(BIN)/pytest -m serial

# The chaos suite at full size (`make test` runs it small): CHAOS_SCALE=1 for the small one.
CHAOS_SCALE ?= 10
chaos: $(BIN)/.installed
	$(BIN)/pytest tests/chaos -m chaos --chaos-scale $(CHAOS_SCALE)

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/enqueue.py
	$(BIN)/python benchmarks/batch.py
