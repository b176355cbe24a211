# Training Optimization — the two commands a learner needs are `make lab`
# and `make test`; both create .venv themselves on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
NBVAL  := --nbval --nbval-current-env --nbval-cell-timeout=600 \
          --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider
# Notebooks are executed and validated with one BLAS thread: the stored outputs
# then do not depend on the machine's core count (a threaded matrix product
# may sum in another order), and the course's small matrices run faster so.
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: lab test lint unit nbval binder browser notebooks bench venv dev clean

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
# repository root. Re-made only when one of those files changes.
BINDER_VENV   := build/binder-venv
BINDER_PYTHON ?= $(shell sed -n 's/^python-\([0-9]*\.[0-9]*\).*/python\1/p' binder/runtime.txt)

$(BINDER_VENV)/.built: binder/requirements.txt binder/postBuild binder/runtime.txt pyproject.toml
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

nbval: dev
	$(ONE_THREAD) $(BIN)/python -m pytest $(NBVAL) notebooks -q

# Every lesson in headless Chromium, in a JupyterLab from the Binder build:
# run all cells, no errors, every widget drawn, each explorer's slider moved
# with the keyboard redraws its image. Without Chromium the tests are skipped
# with a banner saying so; with CI=true that is a failure.
browser: dev binder
	$(BIN)/python -m pytest tests/browser -q -p no:cacheprovider

# --- maintenance --------------------------------------------------------------

# Re-execute every notebook top to bottom in place, outputs stored.
notebooks: dev
	$(ONE_THREAD) $(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

# Each script prints ratios measured in one run; bench_training.py compares
# with PyTorch when it is installed (`pip install torch`, not a dependency).
bench: dev binder
	$(BIN)/python benchmarks/bench_optimizers.py
	$(BIN)/python benchmarks/bench_training.py
	$(ONE_THREAD) $(BIN)/python benchmarks/bench_notebooks.py
	$(BIN)/python benchmarks/bench_browser.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
