"""The web UI front door (Gradio, mounted at /ui): layout in ``layout``, what the buttons do in
``handlers``."""

from app.ui.chat import CITATION_CLICKS_JS
from app.ui.layout import build_ui

__all__ = ["CITATION_CLICKS_JS", "build_ui"]
