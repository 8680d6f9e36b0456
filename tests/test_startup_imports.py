"""A server imports what its parts import lazily before it starts any thread: two threads importing
the same package for the first time can meet it half-initialised (a /health 500 in the soak:
`import chromadb` in a request met numpy half-imported by the model's loader)."""

import importlib.util
import json
import subprocess
import sys

from app.operations import _LAZY_LIBRARIES

CHILD = """
import json, sys
from app.operations import Operations, _LAZY_LIBRARIES
before = [m for m in _LAZY_LIBRARIES if m in sys.modules]
Operations.import_parts()
print(json.dumps({"before": before, "after": [m for m in _LAZY_LIBRARIES if m in sys.modules]}))
"""


def test_import_parts_imports_every_installed_lazy_library_in_the_calling_thread():
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    installed = [m for m in _LAZY_LIBRARIES if importlib.util.find_spec(m.split(".")[0])]
    assert "chromadb" in installed and "numpy" in installed
    # importing the operations alone leaves the heavy ones for later: they are what can race
    assert "chromadb" not in seen["before"]
    assert set(installed) <= set(seen["after"])
