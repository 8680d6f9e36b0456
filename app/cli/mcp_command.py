"""`kb mcp`: the knowledge bases as an MCP server over stdio, for an AI client to start."""


def mcp():
    """Serve the knowledge bases to an AI client over MCP (stdio).

    Tools: search, ask, list_knowledge_bases, list_documents, add_documents, job_status; each
    document is a resource. The client starts this command itself (README, "Use it from an AI
    client"): stdout carries the protocol, logs go to stderr."""
    import logging
    import sys

    from app.cli.common import operations
    from app.mcp import serve_stdio

    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    serve_stdio(operations())
