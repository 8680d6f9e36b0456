"""The shape of the code, checked: no import cycles, small modules, libraries that never reach into
the app, and front doors that go through the operations instead of the parts behind them."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "app",
    "answering",
    "ingest",
    "language",
    "retrieval",
    "llm_backends",
    "prompts",
    "eval",
)
LIBRARIES = ("answering", "ingest", "language", "retrieval", "llm_backends", "prompts", "eval")
FRONT_DOORS = ("app/web", "app/ui", "app/cli", "app/mcp")
MAX_LINES = 300


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(
    path: Path, module: str, known: dict[str, Path], type_checking: bool = False
) -> set[str]:
    """Repository modules ``module`` imports, at the top or inside functions (under TYPE_CHECKING
    only with ``type_checking``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node) and not type_checking
        for n in ast.walk(node)
    }
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                    + ([base] if base else [])
                )
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {name for name in found if name in known and name != module}


def _graph(type_checking: bool = False) -> dict[str, set[str]]:
    known = _modules()
    return {module: _imports(path, module, known, type_checking) for module, path in known.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_anywhere():
    graph = _graph()
    assert len(graph) > 40 and graph["app.cli"]  # the scan sees the code
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_module_imports_its_importer_inside_a_package():
    """Even for type hints alone: two modules that need each other are one concern split badly
    (the options both read live in a module of their own)."""
    graph = {
        module: {d for d in deps if d.split(".")[0] == module.split(".")[0]}
        for module, deps in _graph(type_checking=True).items()
    }
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_module_over_300_lines():
    long = {
        str(p.relative_to(REPO)): n
        for p in _modules().values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_libraries_never_import_the_app():
    graph = _graph()
    bad = {
        m: sorted(d for d in deps if d == "app" or d.startswith("app."))
        for m, deps in graph.items()
        if m.split(".")[0] in LIBRARIES
    }
    assert not {m: d for m, d in bad.items() if d}


def test_the_answer_chain_depends_only_on_prompts_and_retrieval():
    graph = _graph()
    outside = {
        d.split(".")[0] for m, deps in graph.items() if m.split(".")[0] == "answering" for d in deps
    }
    assert outside <= {"answering", "prompts", "retrieval"}, outside


def test_front_doors_go_through_the_operations():
    """REST, UI, CLI and MCP never call the store, the ingest pipeline or the chain themselves."""
    reaching = (
        "ingest_files(",
        ".store.",
        "AnswerChain(",
        "services.search(",
        "store.get(",
        "uploads_dir",
    )
    found = {}
    for door in FRONT_DOORS:
        for path in (REPO / door).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            hits = [r for r in reaching if r in text]
            if hits:
                found[str(path.relative_to(REPO))] = hits
    assert not found, found


def test_the_mcp_door_reaches_only_the_operations():
    """app/mcp imports nothing of this repository but app.operations (and itself): not the store,
    the pipeline, the chain, the settings or another door."""
    graph = _graph()
    door = {m: deps for m, deps in graph.items() if m == "app.mcp" or m.startswith("app.mcp.")}
    assert len(door) >= 5 and graph["app.mcp.tools"]  # the scan sees the door's modules
    outside = {
        m: sorted(
            d for d in deps if not (d == "app.mcp" or d.startswith(("app.mcp.", "app.operations")))
        )
        for m, deps in door.items()
    }
    assert not {m: d for m, d in outside.items() if d}, outside


def _module_attribute_assignments(path: Path) -> list[str]:
    """``x.y = ...`` / ``sys.modules[...].y = ...`` / ``setattr(x, ...)`` whose target is an
    imported module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else []
        )
        for target in targets:
            if isinstance(target, ast.Attribute):
                root = target.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Subscript) or (
                    isinstance(root, ast.Name) and root.id in modules
                ):
                    found.append(f"{path.name}:{node.lineno}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
        ):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_benchmarks_pass_configs_and_never_patch_library_modules():
    """Tuning values travel as typed options (retrieval.SearchOptions, the store's and tokenizer's
    arguments): a benchmark that set a module global would measure what no user runs."""
    scripts = sorted((REPO / "bench").rglob("*.py"))
    assert any(p.parent.name == "retrieval" for p in scripts)  # the scan sees the subpackages
    patched = [hit for path in scripts for hit in _module_attribute_assignments(path)]
    assert patched == []
    probe = REPO / "tests" / "_probe_patch.py"
    probe.write_text(
        "import sys\nimport retrieval.search\nretrieval.search.RRF_K = 3\n"
        "sys.modules['retrieval.keyword'].STEM = False\n",
        encoding="utf-8",
    )
    try:
        assert len(_module_attribute_assignments(probe)) == 2  # the check sees both forms
    finally:
        probe.unlink()
