# Two entry points that work on a fresh Debian machine with only python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean fuzz mutate

$(STAMP): pyproject.toml tools/bootstrap_venv.py
	$(PY) tools/bootstrap_venv.py $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

node_modules/.installed: package.json
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: MicroPython tests will be skipped"; fi

demo: $(STAMP)
	$(BIN)/rung demo

test: $(STAMP) node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Longer runs, not part of `make test` or CI: the block model on 20x the sequences, and
# mutation testing (slow: build/mutate/report.txt and survivors.txt).
fuzz: $(STAMP)
	RUNG_FUZZ_SCALE=$${RUNG_FUZZ_SCALE:-20} $(BIN)/python -m pytest -q tests/test_block_model.py

mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutate]'
	nice -n 19 $(BIN)/python tools/mutate.py $(TARGETS)

clean:
	rm -rf $(VENV) node_modules build *.egg-info
