"""The refusal decision's settings, read with every other ``KB_*`` setting by ``app.settings``: when
the answer is "not in the knowledge base". Each value was chosen on a tuning half and reported on
a report half (bench.answers.fit_bars; docs/benchmarks.md, "Answers")."""

from pydantic import BaseModel, Field

from answering import RefusalConfig

# the defaults are RefusalConfig's: the fitted bars live in one place


class RefusalSettings(BaseModel):
    # both bars: bench.answers.fit_bars on every tuning-half question, the highest refusing at
    # most 0.02 of the answerable ones; reported on the report half (docs/benchmarks.md)
    min_dense_score: float = Field(
        RefusalConfig.min_dense_score,
        description="cosine similarity below which a dense-only hit is irrelevant",
    )
    min_cross_lingual_score: float | None = Field(
        RefusalConfig.min_cross_lingual_score,
        description=(
            "the same bar when the best passage is in the other "
            "language than the question (cross-language similarities run lower)"
        ),
    )
    min_dense_score_en: float | None = Field(
        RefusalConfig.min_dense_score_en,
        description=(
            "the relevance bar for English questions over English passages (unset: min_dense_score)"
        ),
    )
    check_names: bool = Field(
        RefusalConfig.check_names,
        description=(
            "refuse when the passages miss a name (part-of-speech tagged) the "
            "question asks about (same-language questions only)"
        ),
    )

    # the weak-evidence notice: bench.answers.notice on the tuning half's answers, reported on
    # the report half (docs/benchmarks.md, "The weak-evidence notice")
    weak_confidence: float | None = Field(
        RefusalConfig.weak_confidence,
        description=(
            "an answer whose model confidence is below this carries the notice 'the documents may "
            "not state this directly' (unset: not this test)"
        ),
    )
    weak_margin: float | None = Field(
        RefusalConfig.weak_margin,
        description=(
            "an answer whose best dense similarity is less than this above the relevance bar "
            "carries the notice (unset: not this test)"
        ),
    )

    def refusal_config(self) -> RefusalConfig:
        return RefusalConfig(
            min_dense_score=self.min_dense_score,
            min_cross_lingual_score=self.min_cross_lingual_score,
            min_dense_score_en=self.min_dense_score_en,
            check_names=self.check_names,
            weak_confidence=self.weak_confidence,
            weak_margin=self.weak_margin,
        )
