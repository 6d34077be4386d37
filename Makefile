# The two commands of the README: `make run` and `make test`. Both are idempotent on a fresh machine.
# Installs come from the lock files in requirements/ (exact versions and hashes); `make lock` renews them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LATEST := .venv-latest

.PHONY: run test test-clock install install-all lint format lock test-latest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements/pip.txt

# The base install: reading photos and running the service. No torch.
install: $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/base.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .

# Everything: training (torch, pinned), test tools, and the Debian packages the tests use.
install-all: $(BIN)/python
	bash scripts/system-deps.sh
	$(BIN)/pip install -q --require-hashes -r requirements/all.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .

run: install
	$(BIN)/meterverify serve

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The tests whose subject is time (the self-reading window, the draw, photo and submission age) run once more
# with the wall clock a month ahead (time-machine; monotonic time and sleeps stay real): not a day-bound test.
CLOCK_TESTS := tests/verification tests/draw tests/serving/test_draw_service.py tests/serving/test_hardening.py

test: install-all lint
	$(BIN)/python -m pytest
	$(MAKE) test-clock

test-clock:
	$(BIN)/python -m pytest -q --clock-ahead-days 31 $(CLOCK_TESTS)

# Renew the lock: what pip chooses today within pyproject.toml's ranges. Then `make test` before committing.
lock: $(BIN)/python
	$(BIN)/python scripts/lock.py

# The scheduled check: the newest versions pyproject.toml allows, in a venv of their own, and every test.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install -q --upgrade pip
	bash scripts/system-deps.sh
	$(LATEST)/bin/pip install -q --upgrade-strategy eager -e '.[train,dev]'
	$(LATEST)/bin/pip list --format=freeze > $(LATEST)/versions.txt
	MV_TEST_UNLOCKED=1 $(LATEST)/bin/python -m pytest
