# minutecard: `make test` sets up everything it needs on a fresh Debian 12 machine and runs the checks.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make demo ASTERISK=16` (or test, run, bench-load): the Asterisk to start, 16 or 22 (the default).
ifdef ASTERISK
export MINUTECARD_ASTERISK := $(ASTERISK)
endif

.PHONY: test lint system-deps asterisk-versions bench bench-load demo run clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

asterisk-versions: $(STAMP)
	@$(PY) -m testbed.asterisk_versions

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: $(STAMP) system-deps lint
	$(VENV)/bin/pytest

bench: $(STAMP)
	$(PY) -m bench.rating
	$(PY) -m bench.ledger
	$(PY) -m bench.timers
	$(PY) -m bench.credit
	$(PY) -m bench.startup
	$(PY) -m bench.api

bench-load: $(STAMP) system-deps
	$(PY) -m bench.load

demo: $(STAMP) system-deps
	$(PY) -m scripts.demo

run: $(STAMP) system-deps
	$(PY) -m scripts.demo --keep-running

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
