"""Real servers on 127.0.0.1 for tests and benchmarks: an ASGI app under uvicorn, `chroma run`,
PostgreSQL."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(
    app, ready_path: str = "/health", headers: dict | None = None, timeout_s: float = 60
):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(base + ready_path, headers=headers or {}, timeout=2).status_code < 500:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on {base} did not start")
        time.sleep(0.1)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


def wait_job(client: httpx.Client, job_id: str, timeout_s: float = 300) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] == "done":
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} did not finish in {timeout_s} s")


def parse_sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs from a text/event-stream body."""
    events, event, data = [], "message", []
    for line in text.splitlines():
        if not line.strip():
            if data:
                events.append((event, "\n".join(data)))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])
    if data:
        events.append((event, "\n".join(data)))
    return events


class ServerUnavailable(RuntimeError):
    """The server's program is not installed here (tests skip on it)."""


def _wait_until(ready, what: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001  not up yet
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{what} did not start in {timeout_s} s")


class ChromaServer:
    """`chroma run` (installed with chromadb) on a free port; ``restart()`` keeps its data."""

    def __init__(self, path: Path):
        self.exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        if not Path(self.exe).exists():
            raise ServerUnavailable("the chroma CLI is not installed")
        self.path, self.port, self.proc = path, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ChromaServer":
        env = {"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"}
        self.proc = subprocess.Popen(
            [
                self.exe,
                "run",
                "--path",
                str(self.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        _wait_until(
            lambda: httpx.get(self.url + "/api/v2/heartbeat", timeout=1).status_code == 200,
            "chroma server",
            self.proc,
        )
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL, as a crash would: whatever it was writing is cut off."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def __enter__(self) -> "ChromaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def postgres_bin_dir() -> Path | None:
    """Where Debian's PostgreSQL server programs are (``apt-get install postgresql``), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if found:
        return found[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary folder (run as the ``postgres`` user when we
    are root: the server refuses to run as root). ``kill()`` / ``start()`` simulate a crash and a
    restart."""

    def __init__(self):
        self.bin = postgres_bin_dir()
        if self.bin is None:
            raise ServerUnavailable("PostgreSQL is not installed (apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="kb-pg-"))
        # run as the postgres user itself (no runuser in between: the pid we kill is the
        # postmaster's)
        self.as_user = (
            {"user": "postgres", "group": "postgres", "extra_groups": []}
            if os.geteuid() == 0
            else {}
        )
        if self.as_user:
            shutil.chown(self.root, "postgres", "postgres")
        self.port, self.proc = free_port(), None
        subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.root / "data"),
                "-U",
                "kb",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=self.root,
            **self.as_user,
        )

    @property
    def url(self) -> str:
        return f"postgresql://kb@127.0.0.1:{self.port}/postgres"

    def start(self) -> "PostgresServer":
        import psycopg

        self.proc = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.root / "data"),
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.root,
            **self.as_user,
        )
        _wait_until(
            lambda: psycopg.connect(self.url, connect_timeout=2).close() is None,
            "postgres",
            self.proc,
        )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class KbProcess:
    """A `kb` command (``serve --no-ui`` or ``worker``) in its own process group, so it can be
    killed outright. ``env``: KB_* settings on top of this process's environment."""

    def __init__(self, *args: str, env: dict[str, str], log: Path | None = None):
        self.args, self.env, self.log, self.proc = list(args), env, log, None
        self.port = free_port() if args and args[0] == "serve" else None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120) -> "KbProcess":
        kb = Path(sys.executable).parent / "kb"
        args = [*self.args, "--port", str(self.port)] if self.port else self.args
        # noqa: SIM115  closed with the process
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [str(kb), *args],
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.port:
            _wait_until(
                lambda: httpx.get(self.base + "/health", timeout=2).status_code == 200,
                f"kb {' '.join(self.args)}",
                self.proc,
                timeout_s,
            )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def terminate(self, timeout_s: float = 120) -> int:
        """SIGTERM to the process alone (what `docker stop` does); its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    stop = kill


def seeded_settings(root: Path, handbook: str, **overrides):
    """Settings over a fresh data dir under ``root`` whose first-run knowledge base 'guide' is one
    Markdown file, ``handbook``."""
    from app.settings import Settings

    seed = root / "seed"
    seed.mkdir(parents=True, exist_ok=True)
    (seed / "handbook.md").write_text(handbook, encoding="utf-8")
    return Settings(
        data_dir=root / "data", seed_dir=seed, default_kb="guide", _env_file=None, **overrides
    )


def wait_seeded(client: httpx.Client, timeout_s: float = 180) -> None:
    """Until the first-run knowledge base 'guide' holds its one document."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kbs = {k["name"]: k for k in client.get("/kbs").json()}
        if kbs.get("guide", {}).get("documents") == 1:
            return
        time.sleep(0.3)
    raise TimeoutError("first-run knowledge base was not built")


def create_and_upload(client: httpx.Client, kb: str, name: str, text: str) -> str:
    """A new knowledge base ``kb`` holding one uploaded text file; its document id once indexed."""
    assert client.post("/kbs", json={"name": kb}).status_code == 201
    job = client.post(f"/kbs/{kb}/documents", files=[("files", (name, text.encode()))]).json()
    done = wait_job(client, job["job_id"], timeout_s=120)
    assert done["files"][0]["status"] == "indexed", done
    return done["files"][0]["doc_id"]
