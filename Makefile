# rfloc: two commands on a fresh machine -- `make reproduce` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install reproduce reproduce-quick test docs tutorials lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/rfloc reproduce --out results

reproduce-quick: $(STAMP)
	$(BIN)/rfloc reproduce --quick --out results-quick

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs/_gen
	$(BIN)/ruff format --check src tests benchmarks docs/_gen
	$(MAKE) docs
	$(BIN)/python -m pytest

# The site, warnings as errors. The two banners about MkDocs 2.0 are silenced: mkdocs is pinned below 2.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict

# Re-execute the tutorial notebooks at full size and store their outputs (what the docs render).
tutorials: $(STAMP)
	$(BIN)/python docs/_gen/execute_tutorials.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs/_gen

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks docs/_gen
	$(BIN)/ruff check --fix src tests benchmarks docs/_gen

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) results results-quick .pytest_cache site .cache
