"""Folder sync: a knowledge base follows a folder on this machine. New and changed files (by content
hash, which is a document's id) go through the ordinary durable ingestion job; the documents of
deleted files are removed; documents that came from elsewhere (uploads, other folders) are never
touched.

What came from a folder is recorded in a small manifest per (knowledge base, folder) under the data
dir: each file's source name, its document id, and whether this sync added that document (a file
whose bytes were already in the knowledge base is *adopted*, never deleted by the sync). The
manifest is written before a job is submitted, so a sync killed midway still knows its own
documents; a file counts as unchanged only when its document is really in the knowledge base."""

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.operations.errors import InvalidRequest, NotFound
from app.operations.job_model import Job
from app.operations.knowledge import KnowledgeService
from ingest import expand_paths, file_sha256, unsupported_reason
from retrieval import store_id


@dataclass
class SyncPlan:
    folder: Path
    add: list[tuple[Path, str, str]] = field(default_factory=list)  # (path, source, doc_id)
    change: list[tuple[Path, str, str]] = field(default_factory=list)  # same; the old one goes
    remove: list[tuple[str, str]] = field(default_factory=list)  # (source, doc_id)
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)

    @property
    def empty(self) -> bool:
        return not (self.add or self.change or self.remove)

    def as_dict(self) -> dict:
        return {
            "folder": str(self.folder),
            "add": [source for _, source, _ in self.add],
            "change": [source for _, source, _ in self.change],
            "remove": [source for source, _ in self.remove],
            "unchanged": self.unchanged,
            "refused": [{"source": s, "reason": r} for s, r in self.refused],
        }


@dataclass
class SyncResult:
    plan: SyncPlan
    job: Job | None  # the ingestion job of the new and changed files (None when there were none)
    removed: int  # documents of deleted files that were deleted
    failed: list[tuple[str, str]]  # (source, reason) of files the job could not index


class FolderSync:
    def __init__(self, knowledge: KnowledgeService):
        self.knowledge = knowledge

    def plan(self, kb_name: str, folder: Path) -> SyncPlan:
        """What a sync of ``folder`` into ``kb_name`` would do; changes nothing."""
        folder = _checked(folder)
        manifest = self._load(kb_name, folder)
        present = (
            {d.doc_id for d in self.knowledge.documents(kb_name) if d.status == "indexed"}
            if self.knowledge.exists(kb_name)
            else set()  # a dry run before the first sync: everything is new
        )
        plan, seen = SyncPlan(folder), set()
        for path in expand_paths([folder]):
            source = path.relative_to(folder).as_posix()
            reason = unsupported_reason(path.name)
            if reason:
                plan.refused.append((source, reason))
                continue
            seen.add(source)
            doc_id, known = file_sha256(path), manifest.get(source)
            if known is None:
                plan.add.append((path, source, doc_id))
            elif known["doc_id"] != doc_id:
                plan.change.append((path, source, doc_id))
            elif doc_id not in present:  # recorded, but its document never arrived (or was deleted)
                plan.add.append((path, source, doc_id))
            else:
                plan.unchanged += 1
        plan.remove = [(s, e["doc_id"]) for s, e in sorted(manifest.items()) if s not in seen]
        return plan

    def apply(self, kb_name: str, plan: SyncPlan, wait: Callable[[str], Job]) -> SyncResult:
        """Carry ``plan`` out: one durable job for the new and changed files (``wait(job_id)``
        follows it to its end), then the removals. Returns what happened."""
        self.knowledge.open(kb_name, create=True)
        manifest = self._load(kb_name, plan.folder)
        before = dict(manifest)
        existing = {d.doc_id for d in self.knowledge.documents(kb_name)}
        incoming = plan.add + plan.change
        for _, source, doc_id in incoming:
            owned = doc_id not in existing or _owns(before, doc_id)
            manifest[source] = {"doc_id": doc_id, "owned": owned}
        self._save(kb_name, plan.folder, manifest)  # before the job: a killed sync knows its own
        job, failed = None, []
        if incoming:
            job = wait(self.knowledge.submit(kb_name, [(p, s) for p, s, _ in incoming]).id)
            for entry in job.files:
                if entry.status not in ("indexed", "duplicate"):
                    failed.append((entry.source, entry.error or entry.status))
                    _restore(manifest, before, entry.source)
        # a changed file's old version: the store replaced it (same source name) unless the name
        # moved between documents; removed here if it is still there
        for _, source, _ in plan.change:
            if source not in dict(failed):
                self._remove(kb_name, before[source], manifest)
        gone = [manifest.pop(source) for source, _ in plan.remove if source in manifest]
        removed = sum(self._remove(kb_name, e, manifest) for e in gone)
        self._save(kb_name, plan.folder, manifest)
        return SyncResult(plan, job, removed, failed)

    def _remove(self, kb_name: str, entry: dict, manifest: dict) -> bool:
        """Delete a document this sync added, unless another file of the folder still has it."""
        if not entry.get("owned") or any(e["doc_id"] == entry["doc_id"] for e in manifest.values()):
            return False
        try:
            self.knowledge.delete_document(kb_name, entry["doc_id"])
        except NotFound:  # deleted by hand meanwhile
            return False
        return True

    # --- the manifest --------------------------------------------------------------------------
    def _manifest_path(self, kb_name: str, folder: Path) -> Path:
        key = hashlib.sha1(str(folder).encode()).hexdigest()[:12]
        sync_dir = Path(self.knowledge.services.settings.data_dir) / "sync"
        return sync_dir / f"{store_id(kb_name)}-{key}.json"

    def _load(self, kb_name: str, folder: Path) -> dict[str, dict]:
        path = self._manifest_path(kb_name, folder)
        if not path.exists():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))["files"]

    def _save(self, kb_name: str, folder: Path, files: dict[str, dict]) -> None:
        path = self._manifest_path(kb_name, folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        body = {"folder": str(folder), "kb": kb_name, "files": files}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def _checked(folder: Path) -> Path:
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise InvalidRequest(f"not a folder: {folder}")
    return folder


def _owns(manifest: dict[str, dict], doc_id: str) -> bool:
    return any(e["doc_id"] == doc_id and e.get("owned") for e in manifest.values())


def _restore(manifest: dict, before: dict, source: str) -> None:
    """A file the job could not index keeps what the manifest had for it (its old version)."""
    if source in before:
        manifest[source] = before[source]
    else:
        manifest.pop(source, None)
