"""The types of a search: ``SearchOptions`` (how one search runs, every tuning value with it) and
``Hit`` (what it finds)."""

from dataclasses import asdict, dataclass, field
from typing import Protocol

from retrieval.modes import SearchMode


@dataclass
class Hit:
    text: str
    score: float
    source: str
    page: int | None
    doc_id: str
    chunk_id: str
    headings: str = ""
    dense_score: float | None = None  # cosine similarity, when the dense side found it
    keyword_score: float | None = None  # BM25, when the keyword side found it
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class Reranker(Protocol):
    def rerank(self, query: str, texts: list[str]) -> list[float]: ...


@dataclass(frozen=True)
class SearchOptions:
    """How one search runs; every tuning value lives here (``as_dict`` goes into eval and bench
    reports). Values measured with bench/retrieval/search.py (docs/benchmarks.md says on which set
    each was chosen)."""

    k: int = 5
    mode: SearchMode = "hybrid"
    fetch_k: int = 30  # candidates taken from each side before fusion
    mmr: bool = False
    mmr_lambda: float = 0.7  # 1 = pure relevance, 0 = pure diversity
    doc_ids: tuple[str, ...] | None = None
    # One hit per page of a paged document (its best chunk): a long book's neighbouring chunks of
    # one page no longer crowd the other pages out of the top k.
    per_page: bool = True
    # Weighted reciprocal rank fusion (CMRC 2018 + SQuAD 1.1): a smaller k than the usual 60 lets
    # top ranks weigh more, and the keyword list counts a little less than the dense one.
    rrf_k: int = 10
    keyword_weight: float = 0.7
    # The keyword list's weight shrinks when fewer than this share of the question's terms occur in
    # the knowledge base at all (a question in another language than the documents): weight *
    # coverage / this. 0 turns it off.
    full_coverage: float = 0.5
    # With per_page: the top page_rescore_top pages reordered by first-stage score plus
    # page_rescore_weight times the BM25 of their whole page text plus page_similarity_weights times
    # the page's best chunk cosine and its mean-vector cosine (retrieval/rescore.py; weights fitted
    # on 2372 SQuAD long questions, checked on the other sets). It runs only when the keyword index
    # knows at least full_coverage of the question's terms: over pages in another language a page's
    # BM25 rests on a name or a number.
    page_rescore: bool = True
    page_rescore_top: int = 10
    page_rescore_weight: float = 1.5
    page_similarity_weights: tuple[float, float] = (1.0, 0.5)
    # A question naming 式(13.6), 图3.2, Eq. (4.2) ...: the pages (chunks) holding it come first
    # (retrieval/references.py).
    references_first: bool = True
    # Long questions (at least this many characters; 0: off): their subject words (Chinese words
    # rarer than focus_max_general_freq in jieba's general dictionary, Latin words, references) make
    # a focused query, embedded beside the whole question (its dense list weighs focus_dense_weight)
    # and, with focus_keyword, given to the keyword side instead of the whole question
    # (Tokenizer.subject_terms).
    focus_min_chars: int = 0
    focus_max_general_freq: int = 1000
    focus_dense_weight: float = 1.0
    focus_keyword: bool = False

    def as_dict(self) -> dict:
        """Every field, JSON-ready: what a report says the results were made with."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
