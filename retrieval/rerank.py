"""Optional rerankers: a local cross-encoder, or a rerank API (Jina/Cohere/vLLM/Xinference
format)."""

import httpx


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder loaded from a local path (never downloaded)."""

    def __init__(self, model_path: str):
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(model_path, local_files_only=True)

    def rerank(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        return [float(s) for s in self._model.predict([(query, t) for t in texts])]


class APIReranker:
    """``POST {base_url}/rerank`` with ``{model, query, documents}`` -> ``{results: [{index,
    relevance_score}]}``."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 30.0
    ):
        self._url = base_url.rstrip("/") + "/rerank"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_s

    def rerank(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        body = {"model": self._model, "query": query, "documents": texts, "top_n": len(texts)}
        response = httpx.post(self._url, json=body, headers=self._headers, timeout=self._timeout)
        response.raise_for_status()
        scores = [0.0] * len(texts)
        for item in response.json()["results"]:
            scores[int(item["index"])] = float(item.get("relevance_score", item.get("score", 0.0)))
        return scores
