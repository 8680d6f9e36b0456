"""Tidying a small model's answer while it streams: markers, copied source prefixes, refusals."""

import re
from collections.abc import Iterable

import prompts

_COPIED_PREFIX = re.compile(r"^\[(\d{1,2})\]\s*\([^)]*\)\s*")
_MAYBE_PREFIX = re.compile(r"\[\d{0,2}(\]\s*(\([^)]*)?)?")
# [1], [1, 2], [1][2] and the full-width 【1】 all count as markers.
_ANY_MARKER = re.compile(r"[\[【](\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)[\]】]")
_MAYBE_MARKER = re.compile(r"[\[【][\d\s,，、]{0,12}")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def headings_of(blocks: list[dict]) -> set[str]:
    """The Markdown headings in the sources' texts, without their marks."""
    return {m.group(1).strip() for b in blocks for m in _HEADING.finditer(b.get("text") or "")}


def is_refusal(answer: str) -> bool:
    """The model answered with (a form of) the refusal sentence the prompt asks for."""
    text = answer.casefold()
    return any(
        sentence.rstrip("。.").casefold()[:36] in text for sentence in prompts.NO_ANSWER.values()
    )


class StreamTidier:
    """Tidies an answer while it streams, so what is shown streaming is exactly the final text.

    Small models copy a source line's "[n] (file, p.3)" prefix (moved to the end as "[n]") and
    write markers that point at no given source (dropped); "[1, 2]" and "【1】" become "[1][2]"
    and "[1]". A first line that only copies a source's heading (``headings``) is dropped: the
    answer starts with the answer. Text that could still turn into a marker or a heading line is
    held back until it is decided, and so is trailing whitespace: the joined output is already
    stripped.
    """

    def __init__(self, valid: set[int], headings: Iterable[str] = ()):
        self.valid, self.pending, self.started = valid, "", False
        self.headings = set(headings)
        self.moved: int | None = None
        self.cited: set[int] = set()

    def feed(self, text: str) -> str:
        self.pending += text
        return self._drain(final=False)

    def finish(self) -> str:
        out = self._drain(final=True).rstrip()
        self.pending = ""
        if self.moved is not None and self.moved not in self.cited:
            out += f" [{self.moved}]"
        return out

    def _drain(self, final: bool) -> str:
        if not self.started:
            self.pending = self.pending.lstrip()
            if self._heading_undecided(final):
                return ""
            copied = _COPIED_PREFIX.match(self.pending)
            if copied and (final or copied.end() < len(self.pending)):
                if int(copied.group(1)) in self.valid:
                    self.moved = int(copied.group(1))
                self.pending = self.pending[copied.end() :]
            elif not final and (not self.pending or _MAYBE_PREFIX.fullmatch(self.pending)):
                return ""
            self.started = True
        text, hold = self.pending, ""
        cut = max(text.rfind("["), text.rfind("【"))
        if not final and cut >= 0 and _MAYBE_MARKER.fullmatch(text[cut:]):
            text, hold = text[:cut], text[cut:]
        if not final:
            stripped = text.rstrip()
            text, hold = stripped, text[len(stripped) :] + hold
        self.pending = hold
        return _ANY_MARKER.sub(self._marker, text)

    def _heading_undecided(self, final: bool) -> bool:
        """Drops a whole first line that is one of the headings; True while the start could still
        become one (no line break yet)."""
        line, newline, rest = self.pending.partition("\n")
        if newline and line.strip() in self.headings:
            self.pending = rest.lstrip()
            return not final and not self.pending
        return not newline and not final and any(h.startswith(line) for h in self.headings)

    def _marker(self, match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        self.cited.update(n for n in numbers if n in self.valid)
        return "".join(f"[{n}]" for n in numbers if n in self.valid)


def tidy_answer(text: str, blocks: list[dict]) -> str:
    """The whole-text form of :class:`StreamTidier` (same rules, same result)."""
    tidier = StreamTidier({b["n"] for b in blocks}, headings_of(blocks))
    return (tidier.feed(text) + tidier.finish()).strip()
