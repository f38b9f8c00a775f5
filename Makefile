# The book's commands. `make test` and `make book` work on a fresh machine with Python 3.10+ and make.
#
# Environment: if a virtual or conda environment is active, it is used as is; otherwise a .venv is
# created here. Installs are re-run only when pyproject.toml changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
ACTIVE_ENV := $(or $(VIRTUAL_ENV),$(CONDA_PREFIX))
ifeq ($(ACTIVE_ENV),)
  ENV_DIR := .venv
else
  ENV_DIR := $(ACTIVE_ENV)
endif
PY := $(ENV_DIR)/bin/python
BUILD_DIR := _build/html
PORT ?= 8000
NB ?= $(wildcard book/*.ipynb)
W ?=
# Silence debugpy's frozen-modules notice in kernels (it would be stderr in every notebook).
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# The book's matrices are small, and nbval runs two kernels at once on two cores: one BLAS thread
# per process is faster there, and a multi-threaded OpenBLAS on a loaded machine can be 10-50x
# slower on small products. Override on the command line (benchmarks/bench_lstm.py sets its own).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: help book pdf test lab serve notebooks weights lint unit-tests notebook-tests \
	notebook-tests-other-machine build-tests browser-tests clean

help:
	@echo "make book       build the HTML book into $(BUILD_DIR) (installs what it needs)"
	@echo "make pdf        the whole book as one PDF, $(PDF) (builds the book first if needed)"
	@echo "make test       every check: lint, library tests, notebooks (nbval), book build, browser"
	@echo "make lab        JupyterLab on the notebooks, widgets working"
	@echo "make serve      serve the built book on http://127.0.0.1:$(PORT)"
	@echo "make notebooks  re-execute notebooks in place (NB=book/x.ipynb for one)"
	@echo "make weights    retrain the stored weights in book/data (W=name.npz for one)"

# --- set-up -------------------------------------------------------------------------------------
$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed"'
	$(PYTHON) -m venv $(ENV_DIR)
	$(PY) -m pip install --quiet --upgrade pip

$(ENV_DIR)/.book-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[book]"
	touch $@

$(ENV_DIR)/.test-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[book,test]"
	$(PY) -m tests.browser.chromium --ensure
	touch $@ $(ENV_DIR)/.book-installed

# --- the two commands ---------------------------------------------------------------------------
book: $(ENV_DIR)/.book-installed
	$(ENV_DIR)/bin/jupyter-book build . --builder html --all -W -n --keep-going
	@echo "The book is in $(BUILD_DIR): open $(abspath $(BUILD_DIR))/index.html, or run 'make serve'."

# The PDF edition: the built HTML printed by headless Chromium (tests/browser/pdf.py). The notebooks
# are not executed again: an existing build is printed as it is ('make book' first to refresh it).
PDF := $(BUILD_DIR)/lstm-unit-book.pdf

pdf: $(ENV_DIR)/.test-installed
	@test -f $(BUILD_DIR)/index.html || $(MAKE) book
	$(PY) -m tests.browser.pdf $(BUILD_DIR) --out $(PDF)

test: $(ENV_DIR)/.test-installed lint unit-tests notebook-tests notebook-tests-other-machine \
	build-tests browser-tests
	@echo "All checks passed."

# --- the checks `make test` runs ------------------------------------------------------------------
lint: $(ENV_DIR)/.test-installed
	$(PY) -m ruff check lstmlib tests benchmarks book
	$(PY) -m ruff format --check lstmlib tests benchmarks book

unit-tests: $(ENV_DIR)/.test-installed
	$(PY) -m pytest tests -m "not build and not browser" -q -n 2 -p no:cacheprovider

notebook-tests: $(ENV_DIR)/.test-installed
	$(PY) -m pytest --nbval book --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -n 2 --dist loadscope -p no:cacheprovider -q

# The same notebooks, the same stored outputs, on "another machine": OpenBLAS's Sandybridge kernel
# (no FMA; any x86-64 runs it) and numpy's AVX-512 loops switched off (other last bits in np.exp
# and np.log: an AVX-512 machine and an AVX2 one differ exactly there). A cell whose output or
# assert holds on one machine only fails here. (Names a numpy does not know, or features a CPU
# lacks, are ignored; on other CPUs OPENBLAS_CORETYPE is ignored. Switching off AVX2 too would
# be a 2012 CPU, and makes numpy's float32 tanh ~30x slower.)
OTHER_MACHINE := OPENBLAS_CORETYPE=Sandybridge NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_SKX AVX512F"

notebook-tests-other-machine: $(ENV_DIR)/.test-installed
	$(OTHER_MACHINE) $(PY) -c 'import threadpoolctl, numpy; \
	  print("other machine:", [i.get("architecture") for i in threadpoolctl.threadpool_info()])'
	$(OTHER_MACHINE) $(PY) -m pytest --nbval book --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -n 2 --dist loadscope -p no:cacheprovider -q

# The test build shows the notebooks' stored outputs instead of executing them a third time: in
# `make test` both nbval passes have just executed every notebook and compared every text output
# with the stored one. (`make book`, and the Pages workflow, execute every notebook again.)
STORED_CONFIG := _config.stored-outputs.yml

build-tests: $(ENV_DIR)/.test-installed
	sed 's/^\(  execute_notebooks:\) force$$/\1 "off"/' _config.yml > $(STORED_CONFIG)
	grep -q 'execute_notebooks: "off"' $(STORED_CONFIG)
	$(ENV_DIR)/bin/jupyter-book build . --config $(STORED_CONFIG) --builder html --all -W -n \
	  --keep-going
	$(PY) -m pytest tests -m build -q

browser-tests: $(ENV_DIR)/.test-installed
	$(PY) -m pytest tests -m browser -q

# --- reading and writing --------------------------------------------------------------------------
lab: $(ENV_DIR)/.test-installed
	$(PY) -m jupyter lab book

serve:
	@test -f $(BUILD_DIR)/index.html || { echo "No book in $(BUILD_DIR): run 'make book' first."; exit 1; }
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory $(BUILD_DIR)

notebooks: $(ENV_DIR)/.book-installed
	$(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.record_timing=False $(NB)

weights: $(ENV_DIR)/.book-installed
	$(PY) book/data/make_weights.py $(W)

clean:
	rm -rf _build
