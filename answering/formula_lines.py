"""A typeset formula comes out of a PDF's text layer one symbol a line ("m\nX\ni=1"). Short lines
are joined to their neighbours with a space, so what the model reads, and so what it writes back,
and what a person reads, is lines, not a column of tokens. Code blocks, list items, headings and
table rows keep their lines."""

import re

# a formula's pieces: any line this short, or a line this short without Chinese; a PDF's prose
# lines run 30 characters and more (a paragraph's last line, with Chinese, keeps its place)
SHORT_LINE = 6
SHORT_SYMBOLS = 12
_FENCE = ("```", "~~~")
_STRUCTURE = re.compile(r"^\s*([-*+]\s|\d{1,3}[.)]\s|#{1,6}\s|\|)")
_OWN_LINE = re.compile(r"^\s*(#{1,6}\s|\|)")  # a heading or table row: nothing joins onto it
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _is_piece(line: str, short: int) -> bool:
    return len(line) <= short or (len(line) <= SHORT_SYMBOLS and not _CJK.search(line))


def reflow_formula_lines(text: str, short: int = SHORT_LINE) -> str:
    out: list[str] = []
    joinable: list[bool] = []  # may the next line be joined to this one
    in_code = False
    for line in text.split("\n"):
        piece = line.strip()
        if piece.startswith(_FENCE) or in_code:
            in_code = in_code != piece.startswith(_FENCE)
            out.append(line)
            joinable.append(False)
            continue
        if (
            out
            and joinable[-1]
            and piece
            and not _STRUCTURE.match(line)
            and (_is_piece(piece, short) or _is_piece(out[-1].strip(), short))
        ):
            out[-1] = f"{out[-1].rstrip()} {piece}"
            continue
        out.append(line)
        joinable.append(bool(piece) and not _OWN_LINE.match(line))
    return "\n".join(out)
