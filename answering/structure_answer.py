"""Structure questions answered from structure: the outline and the digests of the sections a
question names, citing each section with its pages.

The titles and pages come from the outline itself (so they are exact and the first words arrive at
once); for a chapter and for the whole document the model then writes a short overview from the
digests. Events are the chain's own: Reading, Token..., Sources, Done.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import prompts
from answering.events import Answer, AnswerEvent, Done, Reading, Sources, Token
from answering.model_stream import model_pieces
from answering.repetition import RepetitionGuard
from answering.structure import StructureQuestion, classify
from answering.structure_find import (
    DocumentOutline,
    by_number,
    by_title,
    chapters,
    children,
    pick_document,
    section_of,
)
from answering.structure_text import (
    MAX_LISTED,
    WORDS,
    Cited,
    block,
    first_sentence,
    item,
    pages_of,
)
from retrieval.chunk_ids import chunk_index

_LOCATE_HITS = 8


@dataclass
class StructureAnswerer:
    """``route(question, lang)``: the events of a structure answer, or None when the question is
    not one, or names nothing the outlines hold (then it goes the usual way)."""

    outlines: Callable[[], list[DocumentOutline]]
    search: Callable[[str, int], list]
    chat_model: object | None
    model_name: str
    explain_error: Callable[[BaseException], Exception] | None = None
    prompts_dir: str | None = None

    def route(self, question: str, lang: str) -> Iterator[AnswerEvent] | None:
        asked = classify(question)
        if asked is None:
            return None
        outlines = [o for o in self.outlines() if o.entries]
        if not outlines:
            return None
        start = time.perf_counter()
        planned = self._plan(asked, question, outlines, lang)
        if planned is None:
            return None
        text, cited, overview = planned
        return self._stream(question, lang, asked, text, cited, overview, start)

    def _plan(self, asked: StructureQuestion, question: str, outlines, lang: str):
        """(the text from the outline, the sections cited, the entries to overview) or None."""
        words, cited = WORDS[lang], Cited()
        hits = self.search(asked.named or question, _LOCATE_HITS) if len(outlines) > 1 else []
        if asked.kind == "locate":
            return self._locate(asked, question, outlines, lang, cited)
        if asked.kind == "section":
            found = _named_section(asked, question, outlines, hits)
            if found is None:
                return None
            outline, index = found
            entry = outline.entries[index]
            below = children(outline, index)[:MAX_LISTED]
            head = words["sections" if below else "leaf"].format(
                title=entry["title"],
                pages=pages_of(entry, lang),
                n=cited.number(outline, index),
                source=outline.source,
            )
            lines = [head] + [item(outline, i, lang, cited, "- ") for i in below]
            if entry.get("digest"):
                lines.append(
                    words["gist"].format(digest=entry["digest"], n=cited.number(outline, index))
                )
            return "\n".join(lines), cited, [(outline, i) for i in [index, *below]]
        outline = pick_document(asked, question, outlines, hits)
        if outline is None:
            return None
        listed = chapters(outline)[:MAX_LISTED]
        if asked.kind == "outline":
            lines = [words["chapters"].format(source=outline.source, n=len(listed))]
            lines += [item(outline, i, lang, cited, f"{k}. ") for k, i in enumerate(listed, 1)]
            return "\n".join(lines), cited, []
        lines = [words["summary"].format(source=outline.source, n=len(listed))]
        for k, i in enumerate(listed, 1):
            gist = first_sentence(outline.entries[i].get("digest") or "")
            lines.append(
                item(outline, i, lang, cited, f"{k}. ")
                + (f"：{gist}" if lang == "zh" and gist else f": {gist}" if gist else "")
            )
        return "\n".join(lines), cited, [(outline, i) for i in listed]

    def _locate(self, asked, question, outlines, lang, cited: Cited):
        by_doc = {o.doc_id: o for o in outlines}
        votes: dict[tuple[str, int], float] = {}
        for rank, hit in enumerate(self.search(asked.named or question, _LOCATE_HITS)):
            outline = by_doc.get(getattr(hit, "doc_id", ""))
            index = chunk_index(getattr(hit, "chunk_id", "") or "")
            if outline is None or index is None:
                continue
            for n in section_of(outline, index, getattr(hit, "page", None)):
                votes[(outline.doc_id, n)] = votes.get((outline.doc_id, n), 0.0) + 1 / (rank + 1)
        titled = by_title(outlines, asked.named) if asked.named else None
        if titled is not None:  # the topic is a section's own title: the outline says where
            outline, at = titled
            for n in _enclosing(outline, at):
                votes[(outline.doc_id, n)] = votes.get((outline.doc_id, n), 0.0) + 10.0
        if not votes:
            return None
        words = WORDS[lang]
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0][1]))
        tops = [(d, n) for (d, n), _ in ranked if by_doc[d].entries[n]["level"] == 1]
        doc_id, chapter = tops[0] if tops else ranked[0][0]
        outline = by_doc[doc_id]
        deeper = [
            n
            for (d, n), _ in ranked
            if d == doc_id
            and outline.entries[n]["level"] > outline.entries[chapter]["level"]
            and outline.entries[chapter]["chunk_start"]
            <= outline.entries[n]["chunk_start"]
            <= outline.entries[chapter]["chunk_end"]
        ]
        topic = asked.named or question
        text = words["located"].format(
            topic=topic,
            source=outline.source,
            chapter=outline.entries[chapter]["title"],
            cpages=pages_of(outline.entries[chapter], lang),
            cn=cited.number(outline, chapter),
        )
        if deeper:
            section = outline.entries[deeper[0]]
            text += words["located_in"].format(
                section=section["title"],
                spages=pages_of(section, lang),
                sn=cited.number(outline, deeper[0]),
            )
        text += "。" if lang == "zh" else "."
        others = [
            (d, n)
            for (d, n), _ in ranked
            if (d, n) not in {(doc_id, chapter), (doc_id, deeper[0] if deeper else -1)}
            and by_doc[d].entries[n]["level"] <= 2
        ][:2]
        if others:
            text += words["also"] + ("；" if lang == "zh" else "; ").join(
                item(by_doc[d], n, lang, cited, "") for d, n in others
            )
        return text, cited, []

    def _stream(self, question, lang, asked, text, cited: Cited, overview, start):
        yield Reading(len(cited.entries))
        first_token_ms = _ms(start)
        yield Token(text)
        parts, usage = [text], {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        t_generate = time.perf_counter()
        if overview and self.chat_model is not None:
            blocks = [block(o, i, cited) for o, i in overview if o.entries[i].get("digest")]
            if blocks:
                messages = prompts.overview_messages(question, blocks, lang, self.prompts_dir)
                yield Token(WORDS[lang]["overview"])
                parts.append(WORDS[lang]["overview"])
                guard = RepetitionGuard()
                for piece in guard.stream(
                    model_pieces(self.chat_model, messages, usage, self.explain_error)  # type: ignore[arg-type]
                ):
                    parts.append(piece)
                    yield Token(piece)
        citations = cited.citations()
        yield Sources(citations)
        timings = {
            "retrieve_ms": first_token_ms,
            "first_token_ms": first_token_ms,
            "generate_ms": _ms(t_generate),
            "total_ms": _ms(start),
        }
        yield Done(
            Answer(
                "".join(parts),
                citations,
                timings,
                self.model_name,
                question,
                usage=usage,
                signals={"route": "structure", **asked.as_dict()},
            )
        )


def _enclosing(outline: DocumentOutline, index: int) -> list[int]:
    """The entry and the entries above it (its chapter, ...)."""
    out, level = [index], outline.entries[index]["level"]
    for n in range(index - 1, -1, -1):
        if outline.entries[n]["level"] < level:
            out.append(n)
            level = outline.entries[n]["level"]
    return out


def _named_section(asked: StructureQuestion, question: str, outlines, hits):
    """(document, entry) the question names by number or by title, or None."""
    if asked.number:
        first = pick_document(asked, question, outlines, hits)
        ordered = [first] + [o for o in outlines if o is not first] if first else outlines
        for outline in ordered:
            index = by_number(outline, asked.number)
            if index is not None:
                return outline, index
        return None
    return by_title(outlines, asked.named)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
