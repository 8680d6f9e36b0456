# Included right after llama.cpp's own project() call while pip compiles llama-cpp-python
# (CMAKE_PROJECT_llama.cpp_INCLUDE, set by the Makefile and the Dockerfile). llama-cpp-python forces
# LLAMA_BUILD_COMMON on, but the Python package loads only libllama and libggml*; llama.cpp's
# "common" library (chat parsers, jinja, an HTTP client: 57 of 140 build steps, half the time) is built,
# copied into the wheel and never loaded. Turning it off here, before llama.cpp reads the option,
# shortens the one-time compile.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
