"""docker-compose.yml and Dockerfile: the services, profiles and settings deployment relies on.

`docker compose config` (needs the docker CLI with its compose plugin, no engine) validates the file
the way Docker will read it; the YAML-level checks run everywhere.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
DEFAULT_VLLM_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"


def _compose_available() -> str | None:
    """None when `docker compose` works, else why not."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        done = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker compose version` failed: {exc}"
    if done.returncode != 0:
        said = ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[0][:120]
        return f"the docker compose plugin is not installed ({said})"
    return None


def compose_config(tmp_path, *args: str, env: dict | None = None) -> dict:
    reason = _compose_available()
    if reason:
        pytest.skip(f"`docker compose config` not run: {reason}")
    env_file = tmp_path / "empty.env"  # a developer's .env must not change what the test sees
    env_file.write_text("".join(f"{k}={v}\n" for k, v in (env or {}).items()), encoding="utf-8")
    done = subprocess.run(
        [
            "docker",
            "compose",
            "-f",
            str(COMPOSE),
            "--project-directory",
            str(REPO),
            "--env-file",
            str(env_file),
            *args,
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={"PATH": subprocess.os.environ.get("PATH", ""), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, f"docker compose config failed:\n{done.stderr}"
    return json.loads(done.stdout)


# --- docker compose config ----------------------------------------------------------------------
def test_compose_config_default_profile(tmp_path):
    config = compose_config(tmp_path)
    services = config["services"]
    assert {"app", "chroma"} <= set(services)
    assert "vllm" not in services and "app-gpu" not in services  # gpu profile only
    app = services["app"]
    assert app["environment"]["KB_CHROMA_URL"] == "http://chroma:8000"
    assert app["command"] is None or "serve" in app["command"]
    assert any(v["target"] == "/data" for v in app["volumes"])
    assert services["chroma"]["image"].startswith("chromadb/chroma:")
    assert services["chroma"]["environment"]["ANONYMIZED_TELEMETRY"] == "False"
    assert any(
        v["target"] == "/data" and v["type"] == "volume" for v in services["chroma"]["volumes"]
    )


def test_compose_config_gpu_profile(tmp_path):
    config = compose_config(tmp_path, "--profile", "gpu")
    services = config["services"]
    assert {"app", "chroma", "vllm", "app-gpu"} <= set(services)
    vllm = services["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai")
    assert DEFAULT_VLLM_MODEL in vllm["command"]
    devices = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert any("gpu" in d["capabilities"] for d in devices)
    env = services["app-gpu"]["environment"]
    assert env["KB_LLM_PROVIDER"] == "vllm"
    assert env["KB_LLM_BASE_URL"] == "http://vllm:8000/v1"
    assert env["KB_LLM_MODEL"] == DEFAULT_VLLM_MODEL
    assert env["KB_CHROMA_URL"] == "http://chroma:8000"


def test_compose_config_vllm_model_override(tmp_path):
    config = compose_config(
        tmp_path, "--profile", "gpu", env={"VLLM_MODEL": "Qwen/Qwen2.5-7B-Instruct"}
    )
    assert "Qwen/Qwen2.5-7B-Instruct" in config["services"]["vllm"]["command"]
    assert (
        config["services"]["app-gpu"]["environment"]["KB_LLM_MODEL"] == "Qwen/Qwen2.5-7B-Instruct"
    )


# --- the files themselves (no docker needed) ----------------------------------------------------
def test_compose_file_structure():
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = doc["services"]
    assert "profiles" not in services["app"] and "profiles" not in services["chroma"]
    assert services["vllm"]["profiles"] == ["gpu"] and services["app-gpu"]["profiles"] == ["gpu"]
    assert services["app"]["build"] == "." and services["app-gpu"]["build"] == "."
    assert services["app"]["environment"]["KB_CHROMA_URL"] == "http://chroma:8000"
    assert (
        services["app-gpu"]["environment"]["KB_LLM_MODEL"]
        == f"${{VLLM_MODEL:-{DEFAULT_VLLM_MODEL}}}"
    )
    assert services["chroma"]["environment"]["ANONYMIZED_TELEMETRY"] == "False"
    assert {"kb-data", "chroma-data"} <= set(doc["volumes"])


def test_dockerfile_runs_kb_serve_without_torch():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "cmake" in text and "build-essential" in text
    assert "pip install ." in text
    assert "install torch" not in text and "[st]" not in text and "[dev]" not in text
    assert 'CMD ["kb", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text
    for path in (*_packages(), "knowledge_base"):
        assert f"COPY {path} " in text, f"the image lacks {path}/"


def _packages() -> list[str]:
    """The top-level packages pyproject.toml installs (its setuptools include patterns)."""
    import tomllib

    include = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    return [pattern.rstrip("*") for pattern in include]


def test_compose_scale_profile_structure():
    """Two API replicas behind one port, a worker, the queue and Chroma; replicas and workers see
    the same uploads (one shared volume at one path) and the same queue and Chroma."""
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    scale = {name for name, svc in services.items() if "scale" in svc.get("profiles", [])}
    assert scale == {"lb", "api", "worker", "queue"}
    api, worker = services["api"], services["worker"]
    assert api["deploy"]["replicas"] == 2 and worker["deploy"]["replicas"] >= 1
    assert worker["command"] == ["kb", "worker"]
    assert len(services["lb"]["ports"]) == 1 and "ports" not in api  # one way in
    for key in ("KB_CHROMA_URL", "KB_QUEUE_URL", "KB_SHARED_DIR"):
        assert api["environment"][key] == worker["environment"][key], key
    assert (
        api["environment"]["KB_QUEUE_URL"].startswith("postgresql://")
        and "@queue:" in api["environment"]["KB_QUEUE_URL"]
    )
    shared = api["environment"]["KB_SHARED_DIR"]
    assert f"kb-shared:{shared}" in api["volumes"] and f"kb-shared:{shared}" in worker["volumes"]
    # each replica keeps its own keyword index
    assert not any(v.endswith(":/data") for v in api["volumes"])
    assert services["queue"]["image"].startswith("postgres:")


def test_compose_config_scale_profile(tmp_path):
    services = compose_config(tmp_path, "--profile", "scale")["services"]
    assert {"lb", "api", "worker", "queue", "chroma"} <= set(services)
    assert services["worker"]["command"] == ["kb", "worker"]


def test_the_image_build_has_the_cmake_file_its_compile_names():
    """CMAKE_ARGS points llama.cpp's project() at a file; the build stage must copy it there first,
    or the compile fails in the image only."""
    import re

    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    named = re.search(r"CMAKE_PROJECT_llama\.cpp_INCLUDE=(\S+?)[\s\"]", text)
    assert named, "the Dockerfile no longer names the lib-only cmake file"
    target = named.group(1)
    assert target.startswith("/src/"), target
    relative = target.removeprefix("/src/")
    assert (REPO / relative).is_file(), relative
    copy = text.index(f"COPY {relative} ")
    assert copy < text.index("pip install ."), "copied after the compile"
