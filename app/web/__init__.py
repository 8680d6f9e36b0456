"""The web front door: REST routes, their schemas, the OpenAI-compatible route, and the ASGI
assembly."""

from app.web.server import create_api, create_app

__all__ = ["create_api", "create_app"]
