"""Open a Chroma client: embedded on disk by default, client/server when a URL is given."""

from pathlib import Path
from urllib.parse import urlparse


def open_chroma_client(path: str | Path | None = None, url: str | None = None):
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if path is None:
        raise ValueError("either a Chroma path or a Chroma server URL is needed")
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)
