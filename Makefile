# Two commands matter: `make run` and `make test`. Everything else is set-up they share.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup runtime run test lint bench clean

# `runtime` installs what serving needs (quick); `setup` adds the test and lint tools.
runtime: $(VENV)/.runtime
setup: $(VENV)/.installed

# uv (installed into .venv by pip) fetches in parallel: a fresh clone is served within a minute.
UV := $(BIN)/uv pip install -q --python $(BIN)/python -c constraints.txt

$(VENV)/.runtime: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install -q -c constraints.txt uv
	$(UV) -e .
	touch $@

$(VENV)/.installed: $(VENV)/.runtime
	$(UV) -e '.[dev]'
	touch $@

run: runtime
	$(BIN)/boxoffice migrate
	$(BIN)/boxoffice demo
	$(BIN)/boxoffice serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

bench: setup
	$(BIN)/python -m bench.run --size small

clean:
	rm -rf $(VENV) *.sqlite3
