# Training Optimization — the two commands a learner needs are `make lab`
# and `make test`; both create .venv themselves on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
NBVAL  := --nbval --nbval-current-env --nbval-cell-timeout=600 \
          --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

# Numeric configurations: OpenBLAS's kernel, numpy's SIMD loops and the BLAS thread
# count each change float results in the last bits; forcing them simulates other
# machines. They are defined once, in tests/numeric_configs.py (`make configs` lists
# them). IN_CONFIGS runs a command once under each configuration named before the
# `--`, leaves out (saying why) one this CPU cannot simulate, and ends with a summary.
IN_CONFIGS := $(BIN)/python tests/numeric_configs.py run
# `make test`: the configuration the outputs are stored under, and a foreign machine.
NBVAL_CONFIGS := default-1thread sandybridge-noV3-2threads
# `make portability`: the whole matrix (Haswell and SkylakeX where the CPU has them).
PORTABILITY_CONFIGS := default-1thread default-nthreads sandybridge-noV3-2threads \
                       prescott-1thread haswell-1thread skylakex-1thread
# `make portability-rest`: the matrix less the configurations `make test` has just run
# (what .ci/run runs after `make test`: together they cover the matrix once).
PORTABILITY_REST := $(filter-out $(NBVAL_CONFIGS),$(PORTABILITY_CONFIGS))
# `make nbval-config CONFIG=prescott-1thread [NOTEBOOKS=notebooks/02_momentum.ipynb]`
CONFIG    ?= default-1thread
NOTEBOOKS ?= notebooks

.PHONY: lab test lint unit nbval portability portability-rest nbval-config configs binder browser \
        notebooks bench venv dev clean

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

# The simulated Binder build: what repo2docker does with binder/ (it reads only
# that folder), in a fresh venv: the Python of binder/runtime.txt, then
# `pip install -r binder/requirements.txt`, then ./binder/postBuild run from the
# repository root with the venv first on PATH (it installs course_lib and writes
# JupyterLab's settings overrides). Re-made when a file in binder/ changes.
BINDER_VENV   := build/binder-venv
BINDER_PYTHON ?= $(shell sed -n 's/^python-\([0-9]*\.[0-9]*\).*/python\1/p' binder/runtime.txt)

$(BINDER_VENV)/.built: $(wildcard binder/*) pyproject.toml
	rm -rf $(BINDER_VENV)
	@if command -v $(BINDER_PYTHON) >/dev/null 2>&1; then py=$(BINDER_PYTHON); else \
	  echo "!!! binder/runtime.txt asks for $(BINDER_PYTHON), not found: using $(PYTHON)"; \
	  py=$(PYTHON); fi; echo "$$py -m venv $(BINDER_VENV)"; $$py -m venv $(BINDER_VENV)
	$(BINDER_VENV)/bin/python -m pip --disable-pip-version-check install --quiet \
	  -r binder/requirements.txt
	PATH="$(CURDIR)/$(BINDER_VENV)/bin:$$PATH" VIRTUAL_ENV="$(CURDIR)/$(BINDER_VENV)" \
	  PIP_QUIET=1 PIP_DISABLE_PIP_VERSION_CHECK=1 ./binder/postBuild
	@touch $@

binder: $(BINDER_VENV)/.built

# --- the two commands -------------------------------------------------------

# Jupyter refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: venv
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_gradient_descent.ipynb

test: dev
	$(MAKE) lint unit nbval browser

# --- the parts of `make test` -----------------------------------------------

lint: dev
	$(BIN)/ruff check .

unit: dev
	$(BIN)/python -m pytest tests -q --ignore=tests/browser

# Strict nbval over every lesson, once per configuration; each run's header (and its
# last lines) name the configuration and what is really in force.
nbval: dev
	$(IN_CONFIGS) $(NBVAL_CONFIGS) -- $(BIN)/python -m pytest $(NBVAL) notebooks

portability: dev
	$(IN_CONFIGS) $(PORTABILITY_CONFIGS) -- $(BIN)/python -m pytest $(NBVAL) notebooks

portability-rest: dev
	$(IN_CONFIGS) $(PORTABILITY_REST) -- $(BIN)/python -m pytest $(NBVAL) notebooks

nbval-config: dev
	$(IN_CONFIGS) $(CONFIG) -- $(BIN)/python -m pytest $(NBVAL) $(NOTEBOOKS)

configs: dev
	@$(BIN)/python tests/numeric_configs.py list

# Every lesson in headless Chromium, in a JupyterLab from the Binder build:
# run all cells, no errors, every widget drawn, each explorer's slider moved
# with the keyboard redraws its image, no news or update toast. Lessons 07-09
# run a second time in a JupyterLab (and so kernels) under the foreign
# configuration. Without Chromium the tests are skipped with a banner saying
# so; with CI=true that is a failure.
browser: dev binder
	$(BIN)/python -m pytest tests/browser -q -p no:cacheprovider

# --- maintenance --------------------------------------------------------------

# Re-execute every notebook top to bottom in place, outputs stored (one BLAS
# thread, the default kernel: the configuration `make nbval` checks first).
notebooks: dev
	$(IN_CONFIGS) default-1thread -- $(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

# Each script prints ratios measured in one run; bench_training.py compares
# with PyTorch when it is installed (`pip install torch`, not a dependency).
bench: dev binder
	$(BIN)/python benchmarks/bench_optimizers.py
	$(BIN)/python benchmarks/bench_training.py
	$(IN_CONFIGS) default-1thread -- $(BIN)/python benchmarks/bench_notebooks.py
	$(BIN)/python benchmarks/bench_browser.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
