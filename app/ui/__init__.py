"""The web UI front door (Gradio, mounted at /ui): layout in ``layout``, what the buttons do in
``handlers``."""

from pathlib import Path

from app.ui.chat import CITATION_CLICKS_JS
from app.ui.layout import build_ui

FAVICON = str(Path(__file__).parent / "static" / "favicon.svg")

__all__ = ["CITATION_CLICKS_JS", "FAVICON", "build_ui"]
