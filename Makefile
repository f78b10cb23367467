# The book's two commands (see README.md):
#   make book   build the site, executing every notebook
#   make test   lint, unit tests, slow tests, nbval on every notebook in _toc.yml, pods, book build
#   make pods   student and instructor notebooks for pods -> _build/pods/{student,instructor}/
# Both create .venv/ and install the pinned dependencies when needed.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NB_CELL_TIMEOUT ?= 900
# Executed notebooks store one final line per progress bar instead of every redraw.
export HELPERS_PROGRESS ?= final
# A non-interactive backend (e.g. MPLBACKEND=Agg) would hide every figure of the executed chapters.
unexport MPLBACKEND

.PHONY: help setup book test lint unit slow nbval pods clean

help:
	@echo "make book   build the HTML site (executes every notebook) -> _build/html/index.html"
	@echo "make test   ruff + unit and slow tests + nbval on every notebook + pods + book build"
	@echo "make pods   student and instructor notebooks -> _build/pods/{student,instructor}/"
	@echo "make clean  remove _build/ (keeps .venv/)"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	@start=$$(date +%s)
	$(PYTHON) scripts/build_book.py
	echo "make book finished in $$(( $$(date +%s) - start )) s; open _build/html/index.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check helpers tests scripts benchmarks

unit: $(STAMP)
	$(PYTHON) scripts/run_pytest.py -m "not slow" tests

# Minutes each: an instructor notebook under nbval, helpers installed as on Colab (needs pip's index).
slow: $(STAMP)
	$(PYTHON) scripts/run_pytest.py -m slow --durations=0 tests

nbval: $(STAMP)
	$(PYTHON) scripts/run_pytest.py --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=$(NB_CELL_TIMEOUT) $$($(PYTHON) scripts/toc_notebooks.py)

test: $(STAMP)
	@start=$$(date +%s)
	$(MAKE) --no-print-directory lint unit slow nbval pods book
	echo "make test passed in $$(( $$(date +%s) - start )) s"

pods: $(STAMP)
	$(PYTHON) scripts/make_pods.py --out _build/pods

clean:
	rm -rf _build
