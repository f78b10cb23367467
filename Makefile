# The book's two commands (see README.md):
#   make book   build the site, executing every notebook
#   make test   lint, unit tests, nbval on every notebook in _toc.yml, then the book build
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

.PHONY: help setup book test lint unit nbval clean

help:
	@echo "make book   build the HTML site (executes every notebook) -> _build/html/index.html"
	@echo "make test   ruff + unit tests + nbval on every notebook + book build"
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
	$(PYTHON) scripts/run_pytest.py tests

nbval: $(STAMP)
	$(PYTHON) scripts/run_pytest.py --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=$(NB_CELL_TIMEOUT) $$($(PYTHON) scripts/toc_notebooks.py)

test: $(STAMP)
	@start=$$(date +%s)
	$(MAKE) --no-print-directory lint unit nbval book
	echo "make test passed in $$(( $$(date +%s) - start )) s"

clean:
	rm -rf _build
