# rfloc: two commands on a fresh machine -- `make reproduce` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORE   := $(VENV)/.installed-core
# uv resolves and installs in parallel: a fresh venv with rfloc's dependencies took 15 s with uv and 81 s
# with pip on the 2-core machine. pip stays the fallback when uv cannot be installed.
# --compile-bytecode: uv, unlike pip, writes no .pyc files, and where PYTHONDONTWRITEBYTECODE is set (as on
# the CI machines) Python never writes them either, so every process compiled JAX, SciPy, scikit-learn and
# matplotlib from source: 8-10 s of imports per process, 3 s with the .pyc files (20 s once, at install).
PIP_INSTALL = $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python $(1) || $(BIN)/pip install -q $(1)

.PHONY: install reproduce reproduce-quick test docs tutorials lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	-$(BIN)/pip install -q uv

# `make reproduce` needs only rfloc's own dependencies; `make test` adds the dev extras (docs, pytest, ruff).
$(CORE): $(BIN)/python pyproject.toml
	$(call PIP_INSTALL,-e .)
	touch $(CORE)

$(STAMP): $(BIN)/python pyproject.toml
	$(call PIP_INSTALL,-e '.[dev]')
	touch $(STAMP) $(CORE)

install: $(STAMP)

reproduce: $(CORE)
	$(BIN)/rfloc reproduce --out results

reproduce-quick: $(CORE)
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
