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

# llama.cpp's kernels follow the CPU's real features: scripts/llama_cmake_args.sh turns each
# instruction-set option on from the /proc/cpuinfo flags it needs (GGML_AVX512_VNNI from avx512_vnni,
# GGML_AVX_VNNI from avx_vnni, ...), never -march=native and never AMX (a native build on an AMX CPU
# crashed at ldtilecfg where the VM does not grant AMX). LLAMA_CPU=avx2: the portable AVX2 build,
# whatever the CPU has (`make test VENV=.venv-avx2 LLAMA_CPU=avx2` checks the suite on it;
# docs/llm_backends.md has both builds' speeds). CMAKE_ARGS set by hand wins.
# LLAVA_BUILD=OFF and scripts/llama_cpp_lib_only.cmake: neither the multimodal (mtmd) library nor
# llama.cpp's "common" library, which the Python package never loads (docs/llm_backends.md).
LLAMA_CPU    ?= auto
LLAMA_SLIM   := -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/scripts/llama_cpp_lib_only.cmake
ifeq ($(origin CMAKE_ARGS),undefined)
CMAKE_ARGS := $(LLAMA_SLIM) $(shell bash scripts/llama_cmake_args.sh $(LLAMA_CPU))
endif
export CMAKE_ARGS
# pip's wheel cache ignores CMAKE_ARGS (it would hand an AVX-512 wheel to an AVX2 venv): each set of
# options builds its own wheel once, kept in a folder named after them.
LLAMA_VERSION := $(shell sed -n 's/^llama_cpp_python==//p' $(LOCK))
LLAMA_WHEELS  := $(HOME)/.cache/kb-assistant/llama-cpp/$(shell echo '$(subst $(CURDIR),,$(CMAKE_ARGS))' | sha1sum | cut -c1-12)

.PHONY: run test check lint lock install install-dev system-deps serve bench eval clean help llama-info

help:
	@echo "make run    - set up (first time) and serve UI + API on http://$(HOST):$(PORT)/"
	@echo "make test   - set up (first time) and run the whole test suite"
	@echo "make check  - the fast tests only (not marked slow; a few minutes)"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make lock   - rewrite $(LOCK) from the current .venv (after changing dependencies)"
	@echo "make bench  - run the benchmarks in bench/ (needs ../shared)"
	@echo "make llama-info - which CPU kernels the installed llama.cpp build uses"
	@echo "make clean  - remove .venv and local data"
	@echo "make test VENV=.venv-avx2 LLAMA_CPU=avx2 - the tests on the portable AVX2 build"

$(VENV)/.base:
	@echo ">> creating $(VENV) (first run only; llama-cpp-python compiles once, ~4 min on 2 cores)"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@touch $@

$(VENV)/.llama: $(VENV)/.base $(LOCK)
	@ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo ">> compiling llama-cpp-python $(LLAMA_VERSION) (once for these options: $(CMAKE_ARGS))"; \
	  $(PIP) wheel -q --no-cache-dir --no-deps -c $(LOCK) -w $(LLAMA_WHEELS) llama-cpp-python; }
	$(PIP) install -q --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	@touch $@

# Every install is constrained by the lock: a fresh machine gets the versions the tests passed with.
$(VENV)/.installed: $(VENV)/.llama pyproject.toml $(LOCK)
	$(PIP) install -c $(LOCK) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.llama pyproject.toml $(LOCK)
	# torch first and pinned: the CPU build; anything unpinned would pull CUDA wheels
	$(PIP) install -c $(LOCK) torch==2.13.0
	$(PIP) install -c $(LOCK) -e '.[dev]'
	@touch $@ $(VENV)/.installed

lock: install-dev
	{ echo "# Constraints for every install by make (make lock writes it from a tested .venv): a fresh install is the tested one."; \
	  $(PIP) freeze --exclude-editable | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/'; } > $(LOCK)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# which kernels the installed llama.cpp runs (AVX512 = 1 for the AVX-512 build)
llama-info: install
	$(BIN)/python -c "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"

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

# bench/ is grouped by what it measures (retrieval, answers, ingestion, load); each run records its
# headline figures in bench/.results/ and bench.summary prints them as one table at the end. The
# long-document benchmark (bench/retrieval/long_document.py) runs as bench.retrieval.search --long.
bench: install-dev
	$(BIN)/python -m bench.ingestion.corpus
	$(BIN)/python -m bench.retrieval.search
	$(BIN)/python -m bench.retrieval.search --long
	$(BIN)/python -m bench.answers.first_token
	$(BIN)/python -m bench.answers.follow_up
	$(BIN)/python -m bench.answers.qa
	$(BIN)/python -m bench.load.soak
	$(BIN)/python -m bench.load.soak --scale
	$(BIN)/python -m bench.load.job_queue
	$(BIN)/python -m bench.summary

clean:
	rm -rf $(VENV) data
