"""The MCP tools: thin over the operations, as the REST routes are. Each tool's parameters (with
their descriptions) are its input schema and its docstring is what a model reads to choose it; the
SDK runs these blocking functions in worker threads."""

import time
from typing import Annotated, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field

from app.mcp import results
from app.operations import AskOptions, Operations
from app.operations.knowledge import refused_batch

# retrieval.SEARCH_MODES, spelled out for the schema (a test keeps the two equal)
SearchMode = Literal["hybrid", "dense", "keyword"]
KbName = Annotated[
    str | None,
    Field(description="knowledge base (list_knowledge_bases names them); default: the default one"),
]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20000)


class KnowledgeTools:
    """The tools over one ``Operations``. ``local_files``: whether add_documents may read paths on
    this machine; ``model_wait_s``: how long ask waits for a local model still loading."""

    def __init__(self, ops: Operations, local_files: bool = True, model_wait_s: float = 30.0):
        self.ops, self.local_files, self.model_wait_s = ops, local_files, model_wait_s

    def search(
        self,
        query: Annotated[str, Field(min_length=1, description="what to look for, any language")],
        kb: KbName = None,
        k: Annotated[
            int | None, Field(ge=1, le=50, description="passages wanted (default: KB_SEARCH_K, 5)")
        ] = None,
        mode: Annotated[
            SearchMode | None,
            Field(
                description="hybrid (default): meaning and words; dense: meaning; keyword: words"
            ),
        ] = None,
        explain: Annotated[
            bool,
            Field(
                description="also each signal that ranked a passage, and whether an answer "
                "would be refused before the model and why"
            ),
        ] = False,
    ) -> results.SearchResult:
        """Search a knowledge base for the passages that best match a query, without writing an
        answer. Each passage has its file, page, score and chunk_id, and a uri whose resource holds
        the document's whole text by page. Use it to find sources; use ask for an answer."""
        name = kb or self.ops.knowledge.default_kb
        if explain:
            found = self.ops.search.explain(name, query, k, mode)
            return results.search_result(name, found["hits"], found["decision"])
        return results.search_result(name, self.ops.search.search(name, query, k, mode))

    def ask(
        self,
        question: Annotated[str, Field(min_length=1, description="the question, any language")],
        kb: KbName = None,
        history: Annotated[
            list[Turn] | None,
            Field(max_length=50, description="earlier turns, oldest first, for follow-ups"),
        ] = None,
    ) -> results.AnswerResult:
        """Answer a question from a knowledge base's documents only, citing them as [n]: the
        answer text, its citations (file, page, passage), whether it was refused because the
        documents do not hold the answer, and timings. Written by the server's own model (a local
        one by default), so it takes seconds; use search alone to just find passages."""
        name = kb or self.ops.knowledge.default_kb
        self.ops.knowledge.open(name)  # an unknown knowledge base is said before any waiting
        self._wait_for_model()
        turns = [t.model_dump() for t in history or []]
        return results.answer_result(name, self.ops.answers.ask(question, turns, AskOptions(name)))

    def list_knowledge_bases(self) -> results.KnowledgeBases:
        """The knowledge bases, each with its number of documents and chunks, and which one is the
        default."""
        infos = self.ops.knowledge.list_kbs()
        return results.KnowledgeBases(
            default=self.ops.knowledge.default_kb,
            knowledge_bases=[
                results.KnowledgeBaseInfo(name=i.name, documents=i.documents, chunks=i.chunks)
                for i in infos
            ],
        )

    def list_documents(
        self, kb: Annotated[str, Field(min_length=1, description="knowledge base")]
    ) -> results.Documents:
        """The documents of a knowledge base: file, status (indexed or failed, with the reason),
        pages, chunks, and the uri of each indexed one's text."""
        return results.documents_result(kb, self.ops.knowledge.documents(kb))

    def add_documents(
        self,
        kb: Annotated[str, Field(min_length=1, description="knowledge base; created if new")],
        paths: Annotated[
            list[str],
            Field(
                min_length=1,
                max_length=1000,
                description="absolute paths of files or folders on the machine the server runs on",
            ),
        ],
    ) -> results.JobAccepted:
        """Add local files (PDF, .docx, Markdown, text, HTML, CSV, JSON, subtitles) to a knowledge
        base; folders are read recursively. Each path must exist and be readable. Returns at once
        with a job id: indexing runs in the background, so poll job_status until its status is
        'done'. A file already there is reported as duplicate; one that cannot be read fails alone
        with its reason."""
        if not self.local_files:
            raise ToolError(
                "add_documents over HTTP reads files on the server's disk, so it is only offered "
                "when the server has API keys (KB_API_KEYS); upload with POST /kbs/{kb}/documents"
            )
        job, refused = self.ops.knowledge.submit_local(kb, paths)
        if job is None:
            raise refused_batch(refused)
        return results.JobAccepted(
            job_id=job.id,
            kb=kb,
            files=[f.source for f in job.files],
            refused=[results.RefusedFile(file=n, reason=r) for n, r in refused],
        )

    def job_status(
        self,
        job_id: Annotated[str, Field(min_length=1, description="the id add_documents gave")],
    ) -> results.JobState:
        """How an add_documents job is going: running, done or cancelled, its progress (0 to 1),
        and each file's status (indexed, duplicate, failed with the reason, pending) and stage."""
        return results.job_state(self.ops.knowledge.job(job_id))

    def list_passages(
        self,
        kb: Annotated[str, Field(min_length=1, description="knowledge base")],
        doc_id: Annotated[str, Field(min_length=1, description="a document's doc_id")],
        query: Annotated[str, Field(max_length=500, description="keep passages holding this")] = "",
        offset: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> results.PassagePage:
        """A document's passages in the order they were indexed (those added by hand last), each
        with its chunk_id, page, heading path, text, and whether it is enabled, edited or added by
        hand. Use a chunk_id with correct_passage."""
        return results.PassagePage(**self.ops.passages.list(kb, doc_id, offset, limit, query))

    def correct_passage(
        self,
        kb: Annotated[str, Field(min_length=1, description="knowledge base")],
        chunk_id: Annotated[str, Field(min_length=1, description="the passage (list_passages)")],
        text: Annotated[
            str | None, Field(description="new text: embedded again, keyword index updated")
        ] = None,
        enabled: Annotated[
            bool | None, Field(description="false: kept but left out of search and answers")
        ] = None,
    ) -> results.PassageState:
        """Correct a passage of a knowledge base: replace its text (its parsed text is kept, and an
        undo in the page, REST or CLI brings it back) and/or disable or enable it."""
        return results.PassageState(**self.ops.passages.change(kb, chunk_id, text, enabled))

    def _wait_for_model(self) -> None:
        """A local model still loading (it loads in the background when the server starts): wait a
        little, then say so instead of holding the client past its timeout."""
        deadline = time.monotonic() + self.model_wait_s
        while (status := self.ops.answers.model_status())["state"] == "loading":
            if time.monotonic() >= deadline:
                raise ToolError(
                    f"the model {status['model']} is not loaded yet (it is loading in the "
                    "background); ask again in a minute"
                )
            time.sleep(0.25)

    def all(self) -> list:
        return [
            self.search,
            self.ask,
            self.list_knowledge_bases,
            self.list_documents,
            self.add_documents,
            self.job_status,
            self.list_passages,
            self.correct_passage,
        ]
