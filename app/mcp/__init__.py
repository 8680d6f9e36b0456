"""The MCP door: the knowledge bases inside any AI client that speaks the Model Context Protocol
(desktop assistants, IDEs, agents), built on the official ``mcp`` SDK.

Tools (search, ask, list_knowledge_bases, list_documents, add_documents, job_status) and one
resource per document, over stdio (`kb mcp`) or streamable HTTP at /mcp (`kb serve`). Like every
door it calls ``app.operations`` and nothing behind it.
"""

from app.mcp.server import build_server, serve_stdio

__all__ = ["build_server", "serve_stdio"]
