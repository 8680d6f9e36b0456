"""Fuzz the REST API from its own OpenAPI schema (schemathesis) against a real server: no 5xx,
ever."""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.servers import running_server

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def test_schemathesis_finds_no_server_errors(tmp_path):
    from app.web import create_app

    exe = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(exe).exists():
        pytest.skip("schemathesis is not installed")
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "guide.md").write_text("# 指南\n\n上传文件后即可提问。", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", seed_dir=seed, max_upload_mb=1, _env_file=None)
    with running_server(create_app(settings, with_ui=False)) as base:
        deadline = time.monotonic() + 120
        while (
            not any(k["documents"] for k in httpx.get(base + "/kbs").json())
            and time.monotonic() < deadline
        ):
            time.sleep(0.3)
        result = subprocess.run(
            [
                exe,
                "run",
                f"{base}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "15",
                "--seed",
                "7",
                "--request-timeout",
                "120",
                "--phases",
                "examples,coverage,fuzzing",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
            cwd=tmp_path,
        )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    generated = re.findall(r"(\d+) generated, (\d+) passed", result.stdout)
    print(f"schemathesis: {generated}")
    assert result.returncode == 0, result.stdout[-4000:]
    assert generated and int(generated[-1][0]) > 100 and generated[-1][0] == generated[-1][1]
