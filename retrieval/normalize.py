"""Query and index text folded to one form: half-width letters and digits, lower case, Simplified
Chinese.

A question typed in Traditional Chinese (支持向量機) must find a page printed in Simplified
(支持向量机) and back, and full-width ＳＶＭ must find SVM. The keyword index folds both sides the
same way; the dense side embeds a Traditional question in Simplified (the embedder saw far more
Simplified text).

The Traditional -> Simplified table is OpenCC's character table (``TSCharacters.txt``, shipped in
the pure-Python ``opencc-purepy`` wheel), applied character by character: the same input always
folds to the same output, which is what a symmetric index needs. Without that package only width and
case fold.
"""

import functools
import unicodedata


@functools.lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    try:
        from importlib.resources import files

        text = (files("opencc_purepy") / "dicts" / "TSCharacters.txt").read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError, OSError):
        return {}
    table: dict[int, str] = {}
    for line in text.splitlines():
        traditional, _, simplified = line.partition("\t")
        candidates = simplified.split()
        if (
            len(traditional) == 1
            and candidates
            and len(candidates[0]) == 1
            and candidates[0] != traditional
        ):
            table[ord(traditional)] = candidates[0]
    return table


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to Simplified; everything else unchanged."""
    return text.translate(_t2s_table())


def fold(text: str) -> str:
    """The keyword index's form of any text: NFKC (full-width -> half-width), lower case,
    Simplified."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


def has_traditional(text: str) -> bool:
    table = _t2s_table()
    return any(ord(c) in table for c in text)
