# safercities: `make demo` runs the main job, `make test` runs the tests; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-city

.PHONY: install demo test lint bench bench-large clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

SERVE ?= 1
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/safercities demo $(DEMO_DIR) $(if $(filter 0,$(SERVE)),--no-serve,)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench --sizes S M

bench-large: $(STAMP)
	$(BIN)/python -m bench --sizes L

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
