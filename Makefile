# Shipwatch — the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint imports typecheck bench chaos console drill migrate wheel-check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Shipwatch needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: install, migrate and start the bot (the console opens when no platform is configured)
run: $(STAMP)
	$(BIN)/shipwatch db upgrade
	$(BIN)/shipwatch run

## console: a console on the real clock and the configured database
console: $(STAMP)
	$(BIN)/shipwatch console

## drill: a console on a virtual clock with a throwaway database
drill: $(STAMP)
	$(BIN)/shipwatch console --drill

migrate: $(STAMP)
	$(BIN)/shipwatch db upgrade

## test: lint, type checks and the whole suite, over every core (pytest-xdist)
test: check
	$(BIN)/pytest -q -n auto

check: lint imports typecheck

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## imports: the layer rules of "How it is built", as import-linter contracts (pyproject.toml)
imports: $(STAMP)
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

## wheel-check: build the wheel, install it in a fresh venv elsewhere, check, migrate, drill, run
wheel-check:
	PYTHON=$(PYTHON) deploy/check-wheel.sh

## bench: the speed and memory benchmarks, each also run on BASELINE; prints the figures
# BASELINE is the version the figures are compared with (git revision; empty: none).
BASELINE ?= 575b09e
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(BASELINE),--baseline $(BASELINE))

## chaos: kill -9 a real bot 24 times under load, then check nothing acknowledged was lost
chaos: $(STAMP)
	$(BIN)/python -m chaos

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var
