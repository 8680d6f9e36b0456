"""The data dir carries a schema version (issue 39, item 4): a new one is written at the current
version, one written before versions existed (tests/fixtures/datadir-v1, by main at baccbaf) is
carried over and still opens and searches, and one from a newer release is refused with nothing in
it changed."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.operations import DataDirTooNew, Operations
from app.operations.data_dir import SCHEMA_VERSION, VERSION_FILE, prepare_data_dir, read_version
from app.settings import Settings

FIXTURE = Path(__file__).parent / "fixtures" / "datadir-v1"
KB = str(Path(sys.executable).parent / "kb")


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_new_data_dir_is_written_at_the_current_version(tmp_path):
    data = tmp_path / "new"
    assert read_version(data) is None
    Operations.from_settings(Settings(data_dir=data, preload_model=False, _env_file=None))
    assert json.loads((data / VERSION_FILE).read_text())["schema"] == SCHEMA_VERSION


def test_a_version_1_data_dir_is_migrated_and_still_searches(tmp_path):
    data = tmp_path / "old"
    shutil.copytree(FIXTURE, data)
    assert read_version(data) == 1
    ops = Operations.from_settings(Settings(data_dir=data, preload_model=False, _env_file=None))
    assert read_version(data) == SCHEMA_VERSION
    assert ops.search.search("手册", "年假有几天", k=1)[0].source == "handbook.md"
    assert prepare_data_dir(data) == SCHEMA_VERSION  # the second open has nothing to carry over


def test_a_data_dir_from_a_newer_release_is_refused_and_left_alone(tmp_path):
    data = tmp_path / "newer"
    shutil.copytree(FIXTURE, data)
    (data / VERSION_FILE).write_text(json.dumps({"schema": SCHEMA_VERSION + 1}))
    before = fingerprint(data)
    with pytest.raises(DataDirTooNew, match=f"schema {SCHEMA_VERSION + 1}"):
        Operations.from_settings(Settings(data_dir=data, preload_model=False, _env_file=None))
    env = {**os.environ, "KB_DATA_DIR": str(data), "KB_PRELOAD_MODEL": "false"}
    listed = subprocess.run([KB, "kbs"], capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 3
    assert "newer kb-assistant" in listed.stderr and "Traceback" not in listed.stderr
    assert fingerprint(data) == before
