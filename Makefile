# Small verbs. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run serve test unit integration api quality lint fmt openapi clean bench bench-quick bench-sweep

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,embedded]'
	touch $(STAMP)

install: $(STAMP)

run: install  ## serve on http://127.0.0.1:$${PORT:-8000} (embedded PostgreSQL unless DATABASE_URL)
	$(BIN)/python -m app.devserver

serve: install  ## the container's gunicorn (deploy/gunicorn.conf.py) on http://127.0.0.1:$${PORT:-8000}
	$(BIN)/python -m app.serve

# Test processes: each has its own throwaway database (and embedded PostgreSQL); a test file
# runs whole in one of them. Tests marked `alone` (servers under signals, stalled uploads)
# run afterwards, with the machine to themselves. `TEST_WORKERS=0`: no parallel part.
TEST_WORKERS ?= 2
test: install  ## the whole suite on a throwaway real PostgreSQL (TEST_DATABASE_URL or embedded)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not alone"
	$(BIN)/python -m pytest -m alone

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

api: install
	$(BIN)/python -m pytest tests/api

quality: install  ## identity-resolution precision/recall on the full generated set (10,000+ people)
	QUALITY_PEOPLE=10000 SWEEP_ORDER_PEOPLE=5000 SWEEP_ORDER_SHUFFLES=4 $(BIN)/python -m pytest tests/quality -s

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: install  ## regenerate the committed spec
	$(BIN)/flask --app app openapi write --format=yaml openapi/openapi.yaml

# Load runs (never part of `make test`): wrk from Debian's package, pgbench from PostgreSQL's
# client tools, matplotlib from the bench extra. BENCH_PROFILES (default 1,000,000),
# BENCH_DATABASE_URL (default contacts_bench on 127.0.0.1:5432, dropped and created) and
# BENCH_ARGS (more `python -m bench.run` options) steer it; results land in bench/results/.
BENCH_TOOLS = $(BIN)/python -c 'import matplotlib' 2>/dev/null \
	|| $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,embedded,bench]'; \
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }

bench: install  ## seed 1M profiles; service vs floor vs pgbench under wrk, growth at 10k/100k, the sweep (long)
	@$(BENCH_TOOLS)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.sweep

bench-sweep: install  ## the sweep alone: 1M profiles (BENCH_PROFILES), 5 % planted duplicates
	$(BIN)/python -m bench.sweep

bench-quick: install  ## the same on 10k profiles at c=8, 10 s a scenario (under 3 minutes)
	@$(BENCH_TOOLS)
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
