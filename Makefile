# The two commands of the README: `make run` and `make test`. Both are idempotent on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-all lint format

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The base install: reading photos and running the service. No torch.
install: $(BIN)/python
	$(BIN)/pip install -q -e .

# Everything: training (torch, pinned), test tools, and the Debian packages the tests use.
install-all: $(BIN)/python
	bash scripts/system-deps.sh
	$(BIN)/pip install -q -e '.[train,dev]'

run: install
	$(BIN)/meterverify serve

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install-all lint
	$(BIN)/python -m pytest
