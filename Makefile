# kb-assistant: `make run` serves the UI + API; `make test` runs the tests.
# Both create .venv on first use and reuse it afterwards.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Telemetry off for every library that has one; no hub downloads at run time.
export ANONYMIZED_TELEMETRY=False
export GRADIO_ANALYTICS_ENABLED=False
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export DO_NOT_TRACK=1
export OTEL_SDK_DISABLED=true

LOCK   := requirements.lock

# llama.cpp is never compiled with -march=native: on a CPU with AMX (Xeon Sapphire Rapids and later)
# that build uses AMX tile instructions, which crash (general protection fault at ldtilecfg) where
# the kernel or VM does not grant them. AVX2 for any x86-64 (as in the Dockerfile); the AVX-512
# kernels where the CPU has all of these (prompt reading 1.6x faster, docs/llm_backends.md).
# LLAVA_BUILD=OFF and scripts/llama_cpp_lib_only.cmake: neither the multimodal (mtmd) library nor
# llama.cpp's "common" library, which the Python package never loads (225 s instead of 468 s on 2
# cores, docs/llm_backends.md).
LLAMA_AVX512 := avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi avx512_vnni avx512_bf16 avx_vnni
LLAMA_SLIM   := -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/scripts/llama_cpp_lib_only.cmake
CPU_FLAGS    := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
ifeq ($(words $(filter $(LLAMA_AVX512),$(CPU_FLAGS))),$(words $(LLAMA_AVX512)))
export CMAKE_ARGS ?= $(LLAMA_SLIM) -DGGML_NATIVE=OFF -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON \
	-DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON
else
export CMAKE_ARGS ?= $(LLAMA_SLIM) -DGGML_NATIVE=OFF
endif

.PHONY: run test check lint lock install install-dev system-deps serve bench eval clean help

help:
	@echo "make run    - set up (first time) and serve UI + API on http://$(HOST):$(PORT)/"
	@echo "make test   - set up (first time) and run the whole test suite"
	@echo "make check  - the fast tests only (not marked slow; a few minutes)"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make lock   - rewrite $(LOCK) from the current .venv (after changing dependencies)"
	@echo "make bench  - run the benchmarks in bench/ (needs ../shared)"
	@echo "make clean  - remove .venv and local data"

$(VENV)/.base:
	@echo ">> creating $(VENV) (first run only; llama-cpp-python compiles once, ~4 min on 2 cores)"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@touch $@

# Every install is constrained by the lock: a fresh machine gets the versions the tests passed with.
$(VENV)/.installed: $(VENV)/.base pyproject.toml $(LOCK)
	$(PIP) install -c $(LOCK) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.base pyproject.toml $(LOCK)
	# torch first and pinned: the CPU build; anything unpinned would pull CUDA wheels
	$(PIP) install -c $(LOCK) torch==2.13.0
	$(PIP) install -c $(LOCK) -e '.[dev]'
	@touch $@ $(VENV)/.installed

lock: install-dev
	{ echo "# Constraints for every install by make (make lock writes it from a tested .venv): a fresh install is the tested one."; \
	  $(PIP) freeze --exclude-editable | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/'; } > $(LOCK)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

system-deps:
	@bash .ci/system-deps.sh

# Two test processes (pytest-xdist), each running whole test files (module fixtures built once):
# much of the suite waits on servers, subprocesses and a browser. Files are handed out in the order
# tests/conftest.py sorts them (files with slow tests first), not by their number of tests, which
# left a long file with few tests for last (docs/benchmarks.md). TEST_WORKERS=0: one process.
# --benchmark-disable: langchain-tests' timing tests run once, untimed (speed is measured in bench/).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -ra -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
	--benchmark-disable

test: install-dev system-deps
	$(PYTEST) $(PYTEST_ARGS)

check: install-dev
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python -m bench.ingestion
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.first_token
	$(BIN)/python -m bench.follow_up
	$(BIN)/python -m bench.answers
	$(BIN)/python -m bench.soak
	$(BIN)/python -m bench.soak --scale
	$(BIN)/python -m bench.job_queue

clean:
	rm -rf $(VENV) data
