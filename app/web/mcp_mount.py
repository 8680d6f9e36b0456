"""The MCP server on the web app: streamable HTTP at /mcp, behind the REST API's keys (KB_API_KEYS,
``Authorization: Bearer``), off with KB_MCP=false. The same server `kb mcp` serves over stdio."""

import hmac
from contextlib import AbstractAsyncContextManager

from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.deps import MISSING_KEY

PATH = "/mcp"


def mount_mcp(api, ops) -> AbstractAsyncContextManager:
    """Adds the /mcp route to ``api``; returns what the app's lifespan must hold open (the SDK's
    session manager). Stateless: any replica behind a load balancer answers any request."""
    from mcp.server.transport_security import TransportSecuritySettings

    from app.mcp import build_server

    keys = ops.settings.api_key_set()
    # add_documents reads paths on the server's disk: only for callers holding a key
    server = build_server(ops, local_files=bool(keys))
    server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        # The API keys guard this door as they guard REST; a Host allow-list would refuse every
        # deployment reached by another name than localhost.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    sessions = server.session_manager
    api.router.routes.append(Route(PATH, endpoint=KeyRequired(sessions.handle_request, keys)))
    return sessions.run()


class KeyRequired:
    """An ASGI app behind bearer keys: a request without one of them gets the REST API's 401."""

    def __init__(self, app: ASGIApp, keys: set[str]):
        self.app, self.keys = app, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.keys and not self._has_key(scope):
            refusal = JSONResponse(
                {"detail": MISSING_KEY}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _has_key(self, scope: Scope) -> bool:
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        return scheme.lower() == "bearer" and any(
            hmac.compare_digest(token.encode(), key.encode()) for key in self.keys
        )
