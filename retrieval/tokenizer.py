"""How text becomes keyword tokens, the same for the index and for questions: jieba words for
Chinese, Snowball stems for English, dotted numbers and numbered references whole (式(13.6) ->
n13p6, eq13p6), text folded first (full-width, case, Traditional -> Simplified)."""

import functools
import logging
import re
from collections.abc import Callable

from retrieval.normalize import fold
from retrieval.references import join_dotted_numbers, reference_tokens, split_references
from retrieval.stopwords import BASE as _STOPWORDS

# What the index's rows were tokenized by. Raised whenever Tokenizer.tokens changes what it emits:
# an index written by another version is emptied on open, and each knowledge base refills it from
# its stored chunks (KnowledgeBase.sync_keyword). 2: dotted numbers whole, numbered references; the
# signature adds the English stemmer unless it is the first, light one.
TOKENIZER_VERSION = 2


_WORD = re.compile(r"[\w\u3400-\u9fff\uf900-\ufaff]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A numbered reference as written (式(13.6), eq. 4.2, 图3.2): kept whole in a focused query.


def _light_stem(word: str) -> str:
    """The first English stem (plural -s/-es/-ies, -ing, -ed), kept for before/after benchmarks
    only."""
    if len(word) < 4 or not (word.isascii() and word.isalpha()):
        return word
    for suffix, repl, keep in (("ies", "y", 2), ("sses", "ss", 2), ("ing", "", 3), ("ed", "", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _english_stemmer(kind: str) -> Callable[[str], str]:
    """English words meet through their stem on both sides ("represented" ~ "represents"):
    Snowball's English stemmer (PyStemmer), or the earlier light one, or none."""
    if kind == "snowball":
        import Stemmer

        snowball = Stemmer.Stemmer("english")
        return lambda word: snowball.stemWord(word) if word.isascii() and word.isalpha() else word
    if kind == "light":
        return _light_stem
    if kind == "off":
        return lambda word: word
    raise ValueError(f"unknown English stemmer {kind!r} (snowball, light or off)")


class Tokenizer:
    """jieba for Chinese (search mode: words and their sub-words), lowercase words for the rest;
    text is folded first (retrieval/normalize.py), so Traditional and Simplified, full- and
    half-width meet."""

    def __init__(self, numbered_references: bool = True, english_stems: str = "snowball"):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        # The earlier choices (no numbered references, light stems) are kept for before/after
        # benchmarks.
        self.numbered_references = numbered_references
        self.english_stems = english_stems
        self._stem = _english_stemmer(english_stems)
        self._stemmed_stopwords = frozenset(self._stem(w) for w in _STOPWORDS)
        # Page rescoring tokenizes the same pages for question after question (about half of a
        # search's time on a book): the last pages' tokens are kept, per tokenizer, bounded.
        self._tokens_cached = functools.lru_cache(maxsize=1024)(self._tokens)

    @property
    def signature(self) -> str:
        """What an index built by this tokenizer holds; an index with another signature is
        rebuilt."""
        refs = str(TOKENIZER_VERSION) if self.numbered_references else "1"
        return refs if self.english_stems == "light" else f"{refs}-{self.english_stems}"

    def tokens(self, text: str) -> list[str]:
        """Words, dotted numbers whole (13.6 -> n13p6), then the text's numbered references
        (式(13.6) -> eq13p6; retrieval/references.py)."""
        return list(self._tokens_cached(text))

    def _tokens(self, text: str) -> tuple[str, ...]:
        return tuple(self._tokenize(text))

    def _tokenize(self, text: str) -> list[str]:
        folded = fold(text)
        if not self.numbered_references:
            return self._words(folded)
        return self._words(join_dotted_numbers(folded)) + reference_tokens(folded)

    def subject_terms(self, text: str, max_general_freq: int) -> list[str]:
        """The words of ``text`` that carry its subject: Chinese words jieba's general-language
        dictionary rates rarer than ``max_general_freq`` (or does not know), Latin words that are no
        stop words, and numbered references as written. Instruction and role-play words
        ("根据所提供的上下文信息，假设你是老师，请你设置一个问题") are common Chinese and drop out.
        In question order, each once."""
        folded = fold(text)
        refs, rest = split_references(folded)
        kept: list[str] = []
        for word in self._jieba.cut(rest):
            word = word.strip()
            if len(word) < 2 or not _WORD.fullmatch(word) or word in _STOPWORDS:
                continue
            if _CJK.search(word) and self._jieba.FREQ.get(word, 0) >= max_general_freq:
                continue
            kept.append(word)
        return list(dict.fromkeys(refs + kept))

    def _words(self, folded: str) -> list[str]:
        out: list[str] = []
        for run in _WORD.findall(folded):
            if _CJK.search(run):
                out.extend(t for t in self._jieba.cut_for_search(run) if t.strip())
            else:
                out.append(self._stem(run))
        return out

    def query_terms(self, text: str) -> list[str]:
        seen: dict[str, None] = {}
        for tok in self.tokens(text):
            if tok in _STOPWORDS or tok in self._stemmed_stopwords:
                continue
            seen.setdefault(tok)
        return list(seen)
