"""Export a knowledge base to one archive file and import it again, on this machine or another
(retrieval/archive.py holds the format). Originals travel with it."""

from pathlib import Path

from app.operations.knowledge import KnowledgeService
from retrieval import (
    Archive,
    ExportSummary,
    ImportSummary,
    import_archive,
    store_id,
    write_archive,
)


class ArchiveService:
    def __init__(self, knowledge: KnowledgeService):
        self.knowledge = knowledge

    def export(self, name: str, out: Path, on_progress=None) -> ExportSummary:
        """Write knowledge base ``name`` to ``out`` (replaced only once complete)."""
        kb = self.knowledge.open(name)
        originals = self.knowledge.originals
        return write_archive(
            kb,
            self.knowledge.services.store.embedding_identity(),
            Path(out),
            lambda record: originals.path(kb.id, record.doc_id, record.source),
            on_progress,
        )

    def import_file(
        self, path: Path, name: str | None = None, replace: bool = False, on_progress=None
    ) -> ImportSummary:
        """Restore an archive as ``name`` (default: the name it was exported under). The whole
        archive is verified before anything is written, and nothing of a failed import stays;
        ``replace`` deletes an existing knowledge base of that name once the archive is verified.
        An archive made with another embedding model is embedded again with the configured one."""
        with Archive(Path(path)) as archive:
            target = name or archive.name
            if replace and self.knowledge.services.store.exists(target):
                self.knowledge.drop(target)
            originals = self.knowledge.originals

            def keep(kb_id, record, data: bytes) -> None:
                originals.keep_bytes(kb_id, record.doc_id, record.source, data)

            try:
                return import_archive(
                    self.knowledge.services.store, archive, target, False, keep, on_progress
                )
            except BaseException:
                if not self.knowledge.services.store.exists(target):
                    originals.drop(store_id(target))
                raise
