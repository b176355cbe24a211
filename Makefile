# Training Optimization — the two commands a learner needs are `make lab`
# and `make test`; both create .venv themselves on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
NBVAL  := --nbval --nbval-current-env --nbval-cell-timeout=600 \
          --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

.PHONY: lab test lint unit nbval notebooks bench venv dev clean

# --- environments -----------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), \
	  f"Python >= 3.11 is needed, {sys.executable} is {sys.version.split()[0]}: \
	run make PYTHON=python3.11 (or newer)"'
	$(PYTHON) -m venv $(VENV)

# The stamps re-run pip only when a requirements file or pyproject.toml changes.
$(VENV)/.runtime-installed: requirements.txt pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.runtime-installed
dev: $(VENV)/.dev-installed

# --- the two commands -------------------------------------------------------

# Jupyter refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: venv
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_gradient_descent.ipynb

test: dev
	$(MAKE) lint unit nbval

# --- the parts of `make test` -----------------------------------------------

lint: dev
	$(BIN)/ruff check .

unit: dev
	$(BIN)/python -m pytest tests -q

nbval: dev
	$(BIN)/python -m pytest $(NBVAL) notebooks -q

# --- maintenance --------------------------------------------------------------

# Re-execute every notebook top to bottom in place, outputs stored.
notebooks: dev
	$(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

bench: dev
	$(BIN)/python benchmarks/bench_optimizers.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
