"""eval/eval.ipynb: committed without outputs, and it runs headless on a tiny set."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parents[1] / "eval" / "eval.ipynb"


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])  # papermill-style parameters cell


def test_notebook_runs_headless(tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # without the local model: retrieval only
    answers = importlib.util.find_spec("llama_cpp") is not None
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KB_EVAL_QA_FILE", "eval/samples/sample_en.jsonl")
    monkeypatch.setenv("KB_EVAL_KB", "nb-test")
    monkeypatch.setenv("KB_EVAL_LIMIT", "2")
    monkeypatch.setenv("KB_EVAL_RETRIEVAL_ONLY", "0" if answers else "1")
    monkeypatch.setenv("KB_EVAL_OUT", str(tmp_path / "out"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel is the current interpreter (ipykernel_launcher); it inherits the environment above
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on any failing cell

    markdown = [
        o["data"]["text/markdown"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    ]
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    text = "\n".join(markdown)
    assert "| hit@1 | hit@3 | hit@5 | hit@10 | mrr |" in text
    assert "| config | hit@1 |" in text and "| hybrid |" in text  # the dense/keyword/hybrid table
    if answers:
        assert "## Answers" in text and "## Latency (ms)" in text
    assert len(images) >= 2
    assert (tmp_path / "out" / "report.json").is_file() and (
        tmp_path / "out" / "compare" / "compare.md"
    ).is_file()
