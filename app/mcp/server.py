"""The MCP server over one ``Operations``: its tools and document resources, served over stdio by
`kb mcp` and over streamable HTTP at /mcp by `kb serve` (app/web/mcp_mount.py)."""

from importlib.metadata import PackageNotFoundError, version

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from app.mcp.errors import tool_errors
from app.mcp.resources import KnowledgeBaseServer, add_document_template
from app.mcp.tools import KnowledgeTools
from app.operations import Operations

INSTRUCTIONS = (
    "Knowledge bases of the user's own documents (PDF, Word, Markdown, text). Use search to find "
    "passages, ask for an answer written from the documents with citations (file and page), and "
    "read a result's uri for the document's text by page. add_documents indexes local files in "
    "the background: poll job_status with its job id."
)
_READ_ONLY = {
    "search",
    "ask",
    "list_knowledge_bases",
    "list_documents",
    "job_status",
    "list_passages",
}


def build_server(
    ops: Operations, local_files: bool = True, model_wait_s: float = 30.0
) -> MCPServer:
    """``local_files``: add_documents may read paths on this machine (stdio: the user's own)."""
    try:
        own_version = version("kb-assistant")
    except PackageNotFoundError:  # a source tree without install
        own_version = "0.0.0"
    server = KnowledgeBaseServer(
        ops,
        name="kb-assistant",
        title="kb-assistant knowledge bases",
        instructions=INSTRUCTIONS,
        version=own_version,
        log_level="WARNING",
    )
    _without_telemetry(server)
    errors = tool_errors(ops)
    for tool in KnowledgeTools(ops, local_files, model_wait_s).all():
        annotations = ToolAnnotations(
            read_only_hint=tool.__name__ in _READ_ONLY, open_world_hint=False
        )
        server.add_tool(errors(tool), annotations=annotations, structured_output=True)
    add_document_template(server, ops)
    return server


def _without_telemetry(server: MCPServer) -> None:
    """The SDK puts an OpenTelemetry span around every message; dropped (its documented opt-out),
    so nothing is traced even where a tracer provider is configured."""
    server.middleware[:] = [
        m for m in server.middleware if type(m).__name__ != "OpenTelemetryMiddleware"
    ]


def serve_stdio(ops: Operations) -> None:
    """Serve over stdin/stdout until the client closes them; the local model loads meanwhile."""
    server = build_server(ops)
    ops.import_parts()  # before the model loads in the background and tool calls run in threads
    ops.answers.preload()
    try:
        server.run("stdio")
    finally:
        ops.knowledge.shutdown()
