"""The refusal decision's settings, read with every other ``KB_*`` setting by ``app.settings``: when
the answer is "not in the knowledge base". Each value was chosen on a tuning half and reported on
a report half (docs/benchmarks.md, "Answers on unseen sets")."""

from pydantic import BaseModel, Field


class RefusalSettings(BaseModel):
    # The refusal decision's settings were chosen by bench/fit_gate.py on the tuning half (README,
    # "Refusals").
    # both bars: bench/fit_bars.py on every tuning-half question, the highest refusing at most 0.02
    # of the answerable ones; reported on the report half (docs/benchmarks.md)
    min_dense_score: float = Field(
        0.865, description="cosine similarity below which a dense-only hit is irrelevant"
    )
    min_cross_lingual_score: float = Field(
        0.76,
        description=(
            "the same bar when the best passage is in the other "
            "language than the question (cross-language similarities run lower)"
        ),
    )
    min_dense_score_en: float | None = Field(
        0.81,
        description=(
            "the relevance bar for English questions over English passages (unset: min_dense_score)"
        ),
    )
    check_names: bool = Field(
        True,
        description=(
            "refuse when the passages miss a name (part-of-speech tagged) the "
            "question asks about (same-language questions only)"
        ),
    )
    # Off by default: bench/fit_bars.py chose 0.875 / 0.825 on the tuning half, but a terse question
    # sits at the bar against its own answering sentence ("年假有多少天？": 0.874; the QA sets'
    # questions are long), so a user would see it refused (docs/benchmarks.md, "Near misses")
    min_sentence_score: float | None = Field(
        None,
        description=(
            "refuse when no sentence of the passages (in the question's language) is at least this "
            "similar to the question: they speak of its subject but do not state what it asks "
            "(unset: not read)"
        ),
    )
    min_sentence_score_en: float | None = Field(
        None, description="the same for English questions (unset: min_sentence_score)"
    )
    # Off by default: fitted on the tuning half (-1.1, bench/fit_span.py), on the report half it
    # refused one answerable question at both sizes and no near miss (docs/benchmarks.md)
    min_span_logprob: float | None = Field(
        None,
        description=(
            "local models: refuse when the mean log-probability of the answer's first clause (its "
            "words, not the question's) is below this: the model is guessing (unset: only read; "
            "the first clause is held back until it is read)"
        ),
    )
    min_answer_check: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=(
            "local models: after a short answer the model is asked whether a source states it; "
            "refuse when its probability of yes is below this (unset: not asked; when set, a short "
            "answer is shown once it is checked)"
        ),
    )
    min_answer_check_en: float | None = Field(
        None, ge=0.0, le=1.0, description="the same for English questions (unset: min_answer_check)"
    )
    # Off by default: on the tuning half its whole gain was one near-miss question, and it refused
    # answerable ones elsewhere (docs/benchmarks.md, "Refusals on a half nobody tuned on").
    refusal_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=(
            "refuse when the model's probability "
            "of starting the refusal sentence is at least this (local models; "
            "unset: never on it alone)"
        ),
    )
    ban_refusal_start: bool = Field(
        False,
        description=(
            "below refusal_threshold, the model may not start the refusal sentence (local models)"
        ),
    )
