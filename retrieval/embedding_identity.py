"""Which embedding model made a knowledge base's vectors, so that another model is never used to
search them (the vectors of two models with the same dimensions are not comparable, and a search
with the wrong one returns wrong passages without any error).

The identity is stamped on the knowledge base's registry collection when it is created: provider,
model, dimensions and a fingerprint, the vector of a fixed probe text. Opening it later compares
the configured model's fingerprint with the stamp. A knowledge base made before stamps existed is
checked against its own stored vectors (a few chunks embedded again) before it is stamped.
"""

import json
import math
import time
from dataclasses import asdict, dataclass

from langchain_core.embeddings import Embeddings

from retrieval.collections import set_metadata
from retrieval.kb_names import KBError

PROBE_TEXT = "kb-assistant 嵌入模型指纹 / embedding fingerprint: 知识库检索 retrieval of passages"
# cosine of two embeddings of the same text by the same weights: 1.0 up to the last bits of the
# kernels; two different models' vectors of one text are unrelated (near 0)
SAME_MODEL_COSINE = 0.98
METADATA_KEY = "embedding"


class EmbeddingMismatch(KBError):
    """The configured embedding model is not the one that made the knowledge base's vectors."""

    def __init__(self, kb_name: str, built_with: str, configured: str):
        self.kb_name, self.built_with, self.configured = kb_name, built_with, configured
        super().__init__(
            f"knowledge base '{kb_name}' was embedded with {built_with}, but the configured "
            f"embedding model is {configured}: its vectors cannot be searched with another model"
        )


@dataclass(frozen=True)
class EmbeddingIdentity:
    provider: str
    model: str
    dims: int
    fingerprint: tuple[float, ...]
    stamped_at: float = 0.0

    def describe(self) -> str:
        return f"{self.provider}: {self.model}, {self.dims} dimensions"

    def same_model(self, other: "EmbeddingIdentity") -> bool:
        """The same weights, whatever the names say: equal dimensions and the probe's vectors
        (nearly) equal."""
        return self.dims == other.dims and cosine(self.fingerprint, other.fingerprint) >= (
            SAME_MODEL_COSINE
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "EmbeddingIdentity":
        data = json.loads(text)
        data["fingerprint"] = tuple(float(x) for x in data["fingerprint"])
        return cls(**data)


def identity_of(embeddings: Embeddings, provider: str, model: str) -> EmbeddingIdentity:
    """The identity of ``embeddings``: one embedding of the probe text."""
    vector = tuple(float(x) for x in embeddings.embed_query(PROBE_TEXT))
    return EmbeddingIdentity(provider, model, len(vector), vector, time.time())


def cosine(a, b) -> float:
    if len(a) != len(b) or not len(a):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def read_stamp(collection) -> EmbeddingIdentity | None:
    """The identity stamped on a registry collection (None: not stamped yet)."""
    text = (collection.metadata or {}).get(METADATA_KEY)
    if not text:
        return None
    try:
        return EmbeddingIdentity.from_json(text)
    except (ValueError, TypeError, KeyError):
        return None  # unreadable: checked against the stored vectors like an unstamped one


def write_stamp(collection, identity: EmbeddingIdentity) -> None:
    """Stamp ``identity`` on a registry collection, keeping its other metadata."""
    set_metadata(collection, {METADATA_KEY: identity.to_json()})


def stored_vectors_match(samples: list[tuple[list[str], list[float]]], embeddings) -> bool:
    """Do stored vectors come from ``embeddings``? ``samples``: (the texts the chunk may have been
    embedded as, its stored vector). Each sample must match one of its texts."""
    for texts, stored in samples:
        fresh = embeddings.embed_documents(texts)
        if max(cosine(vector, stored) for vector in fresh) < SAME_MODEL_COSINE:
            return False
    return True
