"""The docs a user reads match the code: every ``KB_*`` setting they name exists, and the README
stays a user's page (issue 37: at most 250 lines)."""

import re
from pathlib import Path

import pytest

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# the dated lab notebook names settings that no longer exist, on purpose
USER_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
USER_DOCS = [p for p in USER_DOCS if p.name != "benchmarks-history.md"]
COMPOSE = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


def named_settings(text: str) -> set[str]:
    """The ``KB_*`` names a text gives, less the test tiers' switches (``KB_TEST_*``) and the
    variables docker-compose.yml reads itself (``${KB_PORT:-8000}``)."""
    names = set(re.findall(r"\bKB_[A-Z0-9_]*[A-Z0-9]\b", text))
    return {n for n in names if not n.startswith("KB_TEST_") and "${" + n not in COMPOSE}


@pytest.mark.parametrize("doc", USER_DOCS, ids=lambda p: p.name)
def test_every_setting_a_doc_names_exists(doc):
    fields = {f"KB_{name.upper()}" for name in Settings.model_fields}
    unknown = named_settings(doc.read_text(encoding="utf-8")) - fields
    assert not unknown, f"{doc.name} names settings that do not exist: {sorted(unknown)}"


def test_the_readme_is_a_users_page():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250
    first_section = next(line for line in lines if line.startswith("## "))
    assert first_section == "## Two commands"


def test_a_removed_setting_is_caught():
    fields = {f"KB_{name.upper()}" for name in Settings.model_fields}
    assert "KB_MIN_SPAN_LOGPROB" in named_settings("`KB_MIN_SPAN_LOGPROB` unset") - fields
