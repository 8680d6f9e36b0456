"""`kb sync DIR --kb NAME` (issue 39, item 5): an added, a changed, a deleted and a foreign file,
through the real CLI and the ordinary durable job; --dry-run changes nothing; --watch follows a
change made while it runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

KB = str(Path(sys.executable).parent / "kb")
NAME = "同步"


def kb(*args, data: Path):
    env = {**os.environ, "KB_DATA_DIR": str(data), "KB_PRELOAD_MODEL": "false"}
    return subprocess.run([KB, *args], capture_output=True, text=True, env=env, timeout=600)


def docs(data: Path) -> dict[str, str]:
    listed = kb("docs", "--kb", NAME, "--json", data=data)
    assert listed.returncode == 0, listed.stderr
    return {d["source"]: d["doc_id"] for d in json.loads(listed.stdout)}


def synced(folder: Path, data: Path, *extra: str) -> dict:
    done = kb("sync", str(folder), "--kb", NAME, "--json", *extra, data=data)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_added_changed_deleted_and_foreign_files(tmp_path):
    data, folder, elsewhere = tmp_path / "data", tmp_path / "notes", tmp_path / "elsewhere"
    (folder / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    (folder / "a.md").write_text("# 年假\n\n正式员工每年十五天年假。\n", encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("报销在每月五日前提交。\n", encoding="utf-8")
    (folder / "tool.exe").write_bytes(b"MZ")
    foreign = elsewhere / "foreign.md"
    foreign.write_text("# 门禁\n\n门禁卡丢失当天报告前台。\n", encoding="utf-8")
    assert kb("ingest", str(foreign), "--kb", NAME, data=data).returncode == 0

    first = synced(folder, data)
    assert (sorted(first["add"]), first["refused"][0]["source"]) == (
        ["a.md", "sub/b.txt"],
        "tool.exe",
    )
    assert set(docs(data)) == {"a.md", "sub/b.txt", "foreign.md"}
    assert synced(folder, data)["unchanged"] == 2  # nothing to do the second time

    old_a = docs(data)["a.md"]
    (folder / "a.md").write_text("# 年假\n\n正式员工每年二十天年假。\n", encoding="utf-8")
    (folder / "sub" / "b.txt").unlink()
    (folder / "c.md").write_text("# 加班\n\n加班需提前申请。\n", encoding="utf-8")
    dry = synced(folder, data, "--dry-run")
    assert (dry["add"], dry["change"], dry["remove"]) == (["c.md"], ["a.md"], ["sub/b.txt"])
    assert set(docs(data)) == {"a.md", "sub/b.txt", "foreign.md"}  # the dry run changed nothing

    second = synced(folder, data)
    assert second["removed_documents"] == 1  # b.txt's document
    now = docs(data)
    assert set(now) == {"a.md", "c.md", "foreign.md"} and now["a.md"] != old_a
    found = kb("search", "年假有几天", "--kb", NAME, "--json", data=data)
    assert "二十天" in found.stdout and "十五天" not in found.stdout

    # a file of the folder whose bytes came in by upload first: adopted, never deleted by a sync
    (folder / "copy-of-foreign.md").write_bytes(foreign.read_bytes())
    synced(folder, data)
    (folder / "copy-of-foreign.md").unlink()
    synced(folder, data)
    assert "foreign.md" in docs(data)


def test_watch_follows_a_new_file(tmp_path):
    data, folder = tmp_path / "data", tmp_path / "watched"
    folder.mkdir()
    (folder / "a.md").write_text("# 年假\n\n十五天。\n", encoding="utf-8")
    proc = _watching(data, folder)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and "a.md" not in _listed(data):
            time.sleep(1)
        (folder / "b.md").write_text("# 报销\n\n五日前提交。\n", encoding="utf-8")
        while time.monotonic() < deadline and "b.md" not in _listed(data):
            time.sleep(1)
        assert {"a.md", "b.md"} <= _listed(data)
    finally:
        out = _ctrl_c(proc, 180, "kb sync --watch did not stop on Ctrl-C within 180 s")
    assert "watching" in out and "Traceback" not in out


def _watching(data: Path, folder: Path) -> subprocess.Popen:
    """`kb sync FOLDER --watch` in its own process group, so Ctrl-C reaches it alone."""
    env = {**os.environ, "KB_DATA_DIR": str(data), "KB_PRELOAD_MODEL": "false"}
    return subprocess.Popen(
        [KB, "sync", str(folder), "--kb", NAME, "--watch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _ctrl_c(proc: subprocess.Popen, timeout_s: float, failure: str) -> str:
    """Ctrl-C, then its output once it ended (a round under way finishes its file first); the test
    fails with ``failure`` and the output when it does not end within ``timeout_s``."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.communicate(timeout=timeout_s)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        pytest.fail(f"{failure}:\n{out[-3000:]}")


def _listed(data: Path) -> set[str]:
    listed = kb("docs", "--kb", NAME, "--json", data=data)
    return {d["source"] for d in json.loads(listed.stdout)} if listed.returncode == 0 else set()


def test_ctrl_c_during_a_watched_round_stops_watching(tmp_path):
    """A Ctrl-C that lands while a round's job runs cancels the job and stops the watch: it was
    swallowed there, and `kb sync --watch` went on watching."""
    data, folder = tmp_path / "data", tmp_path / "watched"
    folder.mkdir()
    proc = _watching(data, folder)
    try:
        time.sleep(15)  # started and watching
        paragraphs = (
            f"第{i}条：员工出差应当提前申请，费用按标准报销，编号{i}。" for i in range(4000)
        )
        (folder / "big.md").write_text("\n\n".join(paragraphs), encoding="utf-8")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _job_running(data):
            time.sleep(0.5)
        assert _job_running(data), "the round's job did not start"
    finally:
        out = _ctrl_c(proc, 300, "kb sync --watch went on after Ctrl-C during a round")
    assert "cancelling" in out, out[-3000:]  # the Ctrl-C landed during the round's job
    assert "stopped watching" in out and "Traceback" not in out, out[-3000:]


def _job_running(data: Path) -> bool:
    import sqlite3

    path = data / "jobs.sqlite"
    if not path.exists():
        return False
    with sqlite3.connect(path) as db:
        try:
            return bool(db.execute("SELECT 1 FROM jobs WHERE status = 'running'").fetchone())
        except sqlite3.OperationalError:  # the tables are not made yet
            return False
