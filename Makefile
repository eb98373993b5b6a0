# Two commands do everything on a fresh machine (see README.md):
#   make demo   - install into .venv if needed, run the bundled GEMM example, check it, and
#                 build its iCEBreaker bitstream
#   make test   - install into .venv if needed, then run the test suite
# Both are idempotent: the install step re-runs only when pyproject.toml changes.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $$(scripts/find-python) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m allo_rtl check examples/gemm.py --target numpy --target verilator
	$(PY) -m allo_rtl build --board icebreaker examples/gemm.py --no-sim

test: $(STAMP)
	$(PY) -m pytest -n auto -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean-venv:
	rm -rf $(VENV)
