# Every target sets itself up: `make serve` and `make test` work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup system-deps js-deps serve test lint typecheck pytest bench bench-scale build validate clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Headless Chromium (Debian's package) and a Japanese font for the page tests and screenshots, and
# Virtuoso (Debian's virtuoso-opensource) for the second-triplestore tests; each installed only when missing.
# Virtuoso's package asks for a DBA password: it is preseeded, so the install never waits for input. The
# tests never use the system instance (they start a private one on loopback with its own database and
# password); if the package's own start left the system daemon running, it is stopped again.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! test -d /usr/share/fonts/opentype/ipafont-gothic; then \
	  echo "installing Debian chromium and fonts-ipafont-gothic for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null; \
	fi
	@if ! command -v virtuoso-t >/dev/null 2>&1 || ! command -v isql-vt >/dev/null 2>&1; then \
	  echo "installing Debian virtuoso-opensource for the Virtuoso store tests"; \
	  pw="$${VIRTUOSO_DBA_PASSWORD:-kg$$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}"; \
	  printf '%s\n' \
	    "virtuoso-opensource-7 virtuoso-opensource-7/dba-password password $$pw" \
	    "virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password $$pw" \
	    | debconf-set-selections; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null; \
	  if [ -x /etc/init.d/virtuoso-opensource-7 ]; then /etc/init.d/virtuoso-opensource-7 stop >/dev/null 2>&1 || true; fi; \
	fi

# jsonld.js, the independent JSON-LD processor the tests read every document with (versions pinned
# in tests/js/package-lock.json); reinstalled only when the lock file changes.
JS_STAMP := tests/js/node_modules/.installed-stamp
js-deps: $(JS_STAMP)

$(JS_STAMP): tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

serve: setup
	$(BIN)/clair-kg serve --host $(HOST) --port $(PORT)

validate: setup
	$(BIN)/clair-kg validate

build: setup
	$(BIN)/clair-kg build --out dist

lint: setup
	$(BIN)/ruff check clair_kg tests bench scripts

typecheck: setup
	$(BIN)/mypy

pytest: setup system-deps js-deps
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m bench

# What clair-kg costs as the graph grows (synthetic graph, 10^4..10^6 statements; 10^7 with
# BENCH_SCALE_ARGS="--sizes 10000000"): build, validate, start, memory, entity documents, search,
# reconciliation and the SPARQL mix of the real `clair-kg serve`, in memory, on disk and against a
# remote store, side by side with `oxigraph serve`. A table on stdout, bench/results/scale.json and
# scale.png (docs/scaling.md). A quick look: BENCH_SCALE_ARGS="--sizes 10000 --duration 2 --rounds 1".
# Uses Debian's wrk for the load (installed here when missing), else a bounded Python client.
bench-scale: setup
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || echo "wrk not installed: the bounded Python load client is used"
	$(BIN)/python -m bench.scale $(BENCH_SCALE_ARGS)

clean:
	rm -rf $(VENV) dist .mypy_cache .ruff_cache .pytest_cache tests/js/node_modules
