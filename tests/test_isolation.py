"""The parsing worker: deadlines and crashes become per-file reasons, and the next file still
works."""

import pytest

from ingest import ChineseTextSplitter, IngestError, IsolatedParser, LoadLimits, ParseLimits
from tests.conftest import shared_path


def test_deadline_kills_the_worker_and_the_next_file_still_parses(files):
    doc = files.pdf("a.pdf", ["内容足够长的一页文字，用于测试解析。"])
    parser = IsolatedParser(LoadLimits(), ChineseTextSplitter(), ParseLimits(timeout_s=0.001))
    with pytest.raises(IngestError, match="longer than"):
        parser.parse(doc, "a.pdf")
    parser.limits = ParseLimits(timeout_s=60)
    assert parser.parse(doc, "a.pdf").chunks[0].metadata["page"] == 1
    parser.close()


def test_memory_cap_turns_a_crash_into_a_reason(files):
    doc = files.pdf("a.pdf", ["一页文字。"])
    parser = IsolatedParser(
        LoadLimits(), ChineseTextSplitter(), ParseLimits(timeout_s=60, memory_mb=64)
    )
    with pytest.raises(IngestError, match="crashed the reader|more than 64 MB"):
        parser.parse(doc, "a.pdf")
    parser.close()


@pytest.mark.shared
def test_every_odd_pdf_gets_an_outcome(store, parser):
    from ingest import expand_paths, ingest_files

    folder = shared_path("corpora", "pdfs-odd")
    kb = store.create("odd")
    files = [(p, p.name) for p in expand_paths([folder]) if p.suffix == ".pdf"]
    outcomes = {o.source: o for o in ingest_files(kb, files, parser).outcomes}
    assert len(outcomes) == len(files)
    assert outcomes["encrypted-aes256-userpw.pdf"].status == "failed"
    assert "password" in outcomes["encrypted-aes256-userpw.pdf"].error
    assert outcomes["empty-0-bytes.pdf"].error.startswith("empty file")
    assert outcomes["encrypted-aes256-emptypw.pdf"].status == "indexed"
    assert all(o.error for o in outcomes.values() if o.status == "failed")
    texts = " ".join(kb.collection.get(include=["documents"])["documents"])
    assert "浅谈校长的魅力" in texts  # GBK-EUC-H CMap decoded to correct Chinese
