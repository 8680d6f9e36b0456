"""Tidying a small model's answer while it streams: markers, copied source prefixes, refusals."""

import re

import prompts

_COPIED_PREFIX = re.compile(r"^\[(\d{1,2})\]\s*\([^)]*\)\s*")
_MAYBE_PREFIX = re.compile(r"\[\d{0,2}(\]\s*(\([^)]*)?)?")
# [1], [1, 2], [1][2] and the full-width 【1】 all count as markers.
_ANY_MARKER = re.compile(r"[\[【](\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)[\]】]")
_MAYBE_MARKER = re.compile(r"[\[【][\d\s,，、]{0,12}")


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
    and "[1]". Text that could still turn into a marker is held back until it is decided, and
    so is trailing whitespace: the joined output is already stripped.
    """

    def __init__(self, valid: set[int]):
        self.valid, self.pending, self.started = valid, "", False
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

    def _marker(self, match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        self.cited.update(n for n in numbers if n in self.valid)
        return "".join(f"[{n}]" for n in numbers if n in self.valid)


def tidy_answer(text: str, blocks: list[dict]) -> str:
    """The whole-text form of :class:`StreamTidier` (same rules, same result)."""
    tidier = StreamTidier({b["n"] for b in blocks})
    return (tidier.feed(text) + tidier.finish()).strip()
