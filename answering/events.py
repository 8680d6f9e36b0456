"""What an answer is made of, and the typed events a streamed answer arrives as."""

from dataclasses import asdict, dataclass, field


@dataclass
class Citation:
    n: int
    source: str
    page: int | None
    text: str
    score: float
    doc_id: str = ""
    # with doc_id: what the source preview needs (REST /kbs/{kb}/documents/{doc_id}/...)
    chunk_id: str = ""
    # the sentence of ``text`` closest to the answer, marked in the page (set by the app; "" none)
    support: str = ""

    def as_dict(self) -> dict:
        """The one public form of a citation (REST, SSE, the OpenAI route and the CLI's JSON)."""
        return asdict(self)


@dataclass
class Answer:
    answer: str
    citations: list[Citation]
    timings: dict
    model: str
    query: str = ""
    # False: nothing relevant was found, or the model said the sources lack the answer
    found: bool = True
    usage: dict = field(
        default_factory=lambda: {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    )
    fragments: int = (
        0  # fragment answers the model gave ("[1]", a name's first character): 2 = still one
    )
    # the model started saying its answer again; the answer ends before that
    repetition_cut: bool = False
    # 1 - the model's probability of starting the refusal sentence, read where its answer starts
    # (None: the model was not asked, e.g. nothing relevant was found, or a provider that cannot
    # say)
    confidence: float | None = None
    # who refused (answering.refusal.decide): "relevance" (no passage cleared the bar), "names"
    # (the passages miss a name the question asks about), "model" (the model wrote the refusal
    # itself, or twice wrote nothing beyond the question's own words:
    # signals["no_answer_twice"]); None when answered
    refused_by: str | None = None
    signals: dict = field(default_factory=dict)  # the evidence read (answering.refusal.Evidence)
    # the model stopped at its length cap (max_tokens) before it finished
    cut_at_length: bool = False
    # answered on thin evidence (answering.refusal.is_weak): shown with WEAK_NOTICE
    weak_evidence: bool = False
    # what a rating of this answer names (set by the app that remembers answers; "" otherwise)
    answer_id: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Reading:
    """The model is reading this many sources (its first token comes after)."""

    sources: int


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Sources:
    citations: list[Citation]


@dataclass(frozen=True)
class Done:
    answer: Answer


@dataclass(frozen=True)
class Failed:
    """The answer could not be finished; ``message`` is one sentence fit to show a user."""

    message: str


AnswerEvent = Reading | Token | Sources | Done | Failed
