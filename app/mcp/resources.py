"""Each indexed document as a resource, ``kb://{kb}/{doc_id}``: its text by page, so a client can
open the page a citation points at. Listed one per document; read through the template."""

import logging

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp_types import Resource as ListedResource

from app.mcp.errors import resource_error
from app.mcp.results import URI_TEMPLATE, document_uri
from app.operations import Operations

log = logging.getLogger("kb.mcp")
MIME = "text/markdown"


class KnowledgeBaseServer(MCPServer):
    """An MCP server whose resource list names every indexed document of every knowledge base (a
    template alone would leave a client to guess the ids)."""

    def __init__(self, ops: Operations, **kwargs):
        super().__init__(**kwargs)
        self.ops = ops

    async def list_resources(self) -> list[ListedResource]:
        listed = await super().list_resources()
        return listed + await anyio.to_thread.run_sync(document_resources, self.ops)


def document_resources(ops: Operations) -> list[ListedResource]:
    try:
        return [
            ListedResource(
                uri=document_uri(kb.name, r.doc_id),
                name=r.source,
                title=f"{r.source} ({kb.name})",
                description=f"{r.source} in knowledge base '{kb.name}'"
                + (f", {r.pages} pages" if r.pages else ""),
                mime_type=MIME,
            )
            for kb in ops.knowledge.list_kbs()
            for r in ops.knowledge.documents(kb.name)
            if r.status == "indexed"
        ]
    except Exception as exc:  # noqa: BLE001  a store that is down lists nothing, it does not fail
        log.warning("cannot list documents as resources: %s", exc)
        return []


def add_document_template(server: MCPServer, ops: Operations) -> None:
    @server.resource(
        URI_TEMPLATE,
        name="document",
        title="A document's text by page",
        description=(
            "The indexed text of one document, page by page (## Page n); kb is the knowledge "
            "base, doc_id the id search results and citations give"
        ),
        mime_type=MIME,
    )
    def document(kb: str, doc_id: str) -> str:
        try:
            source, parts = ops.sources.pages(kb, doc_id)
        except Exception as exc:  # noqa: BLE001  said to the client as a resource error
            raise resource_error(ops, exc) from None
        return document_text(kb, doc_id, source, parts)

    @server.resource(
        URI_TEMPLATE + "/outline",
        name="outline",
        title="A document's outline",
        description=(
            "The outline of one document: its chapters and sections with their pages and a short "
            "digest of each (from its PDF outline, or the headings found in its text)"
        ),
        mime_type=MIME,
    )
    def outline(kb: str, doc_id: str) -> str:
        try:
            found = ops.sources.outline(kb, doc_id)
        except Exception as exc:  # noqa: BLE001  said to the client as a resource error
            raise resource_error(ops, exc) from None
        return outline_text(kb, found)


def document_text(kb: str, doc_id: str, source: str, parts: list[tuple[int | None, str]]) -> str:
    lines = [f"# {source}", "", f"knowledge base: {kb} · document {doc_id}"]
    for page, text in parts:
        lines += ["", f"## Page {page}", ""] if page is not None else [""]
        lines.append(text)
    return "\n".join(lines) + "\n"


def outline_text(kb: str, outline: dict) -> str:
    lines = [
        f"# Outline of {outline['source']}",
        "",
        f"knowledge base: {kb} · document {outline['doc_id']}",
        "",
    ]
    if not outline["entries"]:
        lines.append("(no outline: the document has no headings that were recognised)")
    for entry in outline["entries"]:
        pages = entry["page_start"], entry["page_end"]
        where = (
            ""
            if pages[0] is None
            else f" (p. {pages[0]}" + (f"-{pages[1]})" if pages[1] != pages[0] else ")")
        )
        lines.append(f"{'  ' * (entry['level'] - 1)}- {entry['title']}{where}")
    return "\n".join(lines) + "\n"
