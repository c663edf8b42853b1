# Two commands on a fresh machine with Python 3.11 and gcc:
#   make run    create .venv, install, serve the shipped policy on sqlite
#   make test   the same set-up, then pytest, behave and the protocol coverage check
#   make soak   the long forms of the crash, fuzz, PostgreSQL load and slow-client tests (20 SIGKILLs per
#               store, 10,000 fuzzed requests, 60 s on two servers with 3 failovers, 200 idle + 50 slow-drip
#               connections)
#   make bench  the benchmarks (bench-quick: a smoke run under a minute)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install run test lint types soak check coverage bench bench-quick bench-impact dist image clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@echo "infoshare: serving on http://$(HOST):$(PORT)"
	@echo "infoshare: for a first API key run: KEY=$$($(BIN)/infoshare keys create --role case-system | tail -n 1)"
	@echo "infoshare: for the web pages, make an account: $(BIN)/infoshare users create --role practitioner --name \"Sam Patel\""
	$(BIN)/infoshare serve --host $(HOST) --port $(PORT)

# import-linter and mypy read packages from the file system: a tree of links shows them
# the folders under the names they are installed as.
LAYOUT := build/layout
$(LAYOUT)/infoshare:
	mkdir -p $@
	ln -sfn ../../../engine $@/engine
	ln -sfn ../../../service $@/service

lint: $(STAMP) $(LAYOUT)/infoshare
	$(BIN)/ruff check engine service tests features bench
	$(BIN)/ruff format --check engine service tests features bench
	PYTHONPATH=$(LAYOUT) $(BIN)/lint-imports --no-cache

types: $(STAMP) $(LAYOUT)/infoshare
	cd $(LAYOUT) && ../../$(BIN)/mypy --config-file ../../pyproject.toml

# pytest runs the test files in TEST_WORKERS processes (pytest-xdist), each file whole in one of them
# (--dist loadfile: a module's served site or built wheel is made once, and the browser tests'
# last test counts the pages the others checked). Most tests wait on a server,
# a browser or a subprocess rather than compute, so 3 workers on 2 cores finish sooner than 1;
# TEST_WORKERS=0 runs them in this process, one after another.
TEST_WORKERS ?= 3

test: lint types $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile
	$(BIN)/behave --format progress --no-capture features
	$(BIN)/infoshare coverage --quiet
	$(BIN)/infoshare fmt --check --policy policies/information-sharing

soak: $(STAMP)
	INFOSHARE_CRASH_KILLS=20 INFOSHARE_FUZZ_REQUESTS=10000 INFOSHARE_PG_LOAD_SECONDS=60 INFOSHARE_PG_FAILOVERS=3 \
	  INFOSHARE_SLOW_IDLE=200 INFOSHARE_SLOW_DRIP=50 \
	  $(BIN)/pytest -q -s tests/api/test_service_crash.py tests/api/test_service_openapi_fuzz.py \
	  tests/api/test_service_postgres_load.py tests/api/test_service_slow_clients.py
	INFOSHARE_INTERVIEW_STATES=all $(BIN)/pytest -q -s tests/test_interview.py

check: $(STAMP)
	$(BIN)/infoshare check

coverage: $(STAMP)
	mkdir -p build
	$(BIN)/infoshare coverage --html build/coverage.html

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $(BENCH_STAMP)

# The full benchmark takes a few minutes; bench-quick is a smoke run in under a minute.
WRK := command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)

bench: $(BENCH_STAMP)
	$(WRK)
	$(BIN)/python bench/run.py

bench-quick: $(BENCH_STAMP)
	$(WRK)
	$(BIN)/python bench/run.py --quick

bench-impact: $(STAMP)
	$(BIN)/python bench/impact.py

# The sdist and the wheel (built from the sdist), as a release is made; then the container image,
# where a container engine is installed (none is on the CI machines).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

image: dist
	@engine=$$(command -v podman || command -v docker) || { echo "image: no container engine (podman or docker) here; Containerfile not built"; exit 1; }; \
	  $$engine build -t infoshare -f Containerfile .

clean:
	rm -rf $(VENV) build dist *.egg-info instance
