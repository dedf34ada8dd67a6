# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean fault

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,test]'
	# Semgrep pins its own OpenTelemetry versions: it gets a venv of its own (the findings tests run it from there).
	$(PYTHON) -m venv $(VENV)/semgrep
	$(VENV)/semgrep/bin/pip install --quiet semgrep
	touch $(STAMP)

demo: install
	$(BIN)/aitrail demo

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

# Fault tests at length: the collector killed and restarted 1000 times under load, the store stopped and
# started; then 200,000 generated OTLP bodies against a live collector.
FAULT_CYCLES ?= 1000
FUZZ_BODIES ?= 200000
fault: install
	AITRAIL_FAULT_CYCLES=$(FAULT_CYCLES) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/fault
	AITRAIL_FUZZ_BODIES=$(FUZZ_BODIES) $(BIN)/python -m pytest -q -s -p no:cacheprovider -o timeout=0 tests/fuzz

clean:
	rm -rf $(VENV) build *.egg-info
