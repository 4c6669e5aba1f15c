# Two entry points that work on a fresh Debian machine with only python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean

$(STAMP): pyproject.toml tools/bootstrap_venv.py
	$(PY) tools/bootstrap_venv.py $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

node_modules/.installed: package.json tools/npm_install.py
	@$(PY) tools/npm_install.py

demo: $(STAMP)
	$(BIN)/rung demo

test: $(STAMP) node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) node_modules build *.egg-info
