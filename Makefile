# Small verbs. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run serve test unit integration api quality lint fmt openapi clean

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

test: install  ## the whole suite on a throwaway real PostgreSQL (TEST_DATABASE_URL or embedded)
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

api: install
	$(BIN)/python -m pytest tests/api

quality: install  ## identity-resolution precision/recall on the full generated set (10,000+ people)
	QUALITY_PEOPLE=10000 $(BIN)/python -m pytest tests/quality -s

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: install  ## regenerate the committed spec
	$(BIN)/flask --app app openapi write --format=yaml openapi/openapi.yaml

clean:
	rm -rf $(VENV) .pytest_cache
