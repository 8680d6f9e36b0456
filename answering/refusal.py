"""The refusal decision in one place: what was read for one answer (``Evidence``) and who refuses
(``decide``), with one typed config (``RefusalConfig``).

Only gates that are on by default decide: the relevance bar (per language pair) and the name check.
Gates that did not carry from a tuning half to a report half are gone (their figures are in
docs/benchmarks-history.md); of what they read, the model's probability of starting the refusal
sentence and the mean log-probability of the answer's first clause are still read and recorded
(``Answer.signals``), gating nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import prompts
from retrieval import Hit


@dataclass(frozen=True)
class RefusalConfig:
    """The bars were chosen on tuning halves and reported on report halves (bench.answers.fit_bars,
    docs/benchmarks.md)."""

    # cosine similarity below which the best dense passage is irrelevant
    min_dense_score: float = 0.865
    # the bar when the best passage is in the other language than the question (cross-language
    # similarities run lower); None: one bar for every pair of languages
    min_cross_lingual_score: float | None = 0.76
    # English questions over English passages (e5 similarities run lower); None: min_dense_score
    min_dense_score_en: float | None = 0.81
    # refuse when the passages miss a name the question asks about
    check_names: bool = True
    # the weak-evidence notice on an answer (None: that test is off): the model's confidence
    # (1 - its refusal probability) below this, or the best dense similarity less than this far
    # above the relevance bar. Fitted with bench.answers.notice on the tuning half of
    # bench.answers.qa (draw 3): the margin alone, 0.03 (docs/benchmarks.md)
    weak_confidence: float | None = None
    weak_margin: float | None = 0.03

    def relevance_bar(self, question_lang: str, passage_lang: str | None) -> float:
        if (
            self.min_cross_lingual_score is not None
            and passage_lang is not None
            and passage_lang != question_lang
        ):
            return self.min_cross_lingual_score
        if question_lang == "en" and self.min_dense_score_en is not None:
            return self.min_dense_score_en
        return self.min_dense_score


@dataclass
class Evidence:
    """Every signal read for one answer: before the model (the passages found) and while it
    answers (what the model wrote and how sure it was)."""

    question_lang: str
    passages: int = 0  # passages found
    best_dense_score: float | None = None  # None: no dense score (dense search off)
    best_dense_lang: str | None = None  # the language of that passage
    keyword_matched: bool = False  # a keyword match among the passages
    missing_names: list[str] | None = None  # names the passages miss (None: not checked)
    # read while the model answers; recorded, gating nothing
    refusal_probability: float | None = None  # P(the model starts the refusal sentence)
    span_logprob: float | None = None  # mean log-probability of the answer's first clause
    model_refused: bool = False  # the model wrote the refusal (or twice nothing of its own)
    no_answer_twice: bool = False
    cut_at_length: bool = False  # the model stopped at its length cap, mid-answer

    @classmethod
    def of_hits(cls, hits: list[Hit], question_lang: str) -> Evidence:
        dense = [h for h in hits if h.dense_score is not None]
        best = max(dense, key=lambda h: h.dense_score or 0.0) if dense else None
        return cls(
            question_lang=question_lang,
            passages=len(hits),
            best_dense_score=None if best is None else float(best.dense_score or 0.0),
            best_dense_lang=None if best is None else prompts.detect_language(best.text),
            keyword_matched=any(h.keyword_score for h in hits),
        )

    def signals(self) -> dict:
        """The public record (``Answer.signals``): what the benchmarks and the eval read."""
        out: dict = {
            "best_dense_score": _rounded(self.best_dense_score),
            "refusal_probability": self.refusal_probability,
            "span_logprob": self.span_logprob,
            "no_answer_twice": self.no_answer_twice,
        }
        if self.missing_names is not None:
            out["missing_names"] = self.missing_names
        return out


def is_relevant(evidence: Evidence, config: RefusalConfig) -> bool:
    """A dense match clears the bar (keyword matches count when dense search is off)."""
    if not evidence.passages:
        return False
    if evidence.best_dense_score is None:
        return evidence.keyword_matched
    bar = config.relevance_bar(evidence.question_lang, evidence.best_dense_lang)
    return evidence.best_dense_score >= bar


def decide(evidence: Evidence, config: RefusalConfig) -> str | None:
    """Who refuses: "relevance" (no passage clears the bar), "names" (the passages miss a name the
    question asks about), "model" (the model wrote the refusal itself); None: answered. Before the
    model runs, only the first two can refuse."""
    if not is_relevant(evidence, config):
        return "relevance"
    if config.check_names and evidence.missing_names:
        return "names"
    if evidence.model_refused:
        return "model"
    return None


def is_weak(evidence: Evidence, config: RefusalConfig) -> bool:
    """An answer given on thin evidence, which carries the notice "the documents may not state
    this directly" (read after the model answered; it refuses nothing)."""
    if config.weak_confidence is not None and evidence.refusal_probability is not None:
        if 1 - evidence.refusal_probability < config.weak_confidence:
            return True
    if config.weak_margin is not None and evidence.best_dense_score is not None:
        bar = config.relevance_bar(evidence.question_lang, evidence.best_dense_lang)
        if evidence.best_dense_score < bar + config.weak_margin:
            return True
    return False


def explain_decision(evidence: Evidence, config: RefusalConfig) -> dict:
    """What the answer step would decide before the model runs, and why: the bar the best dense
    passage is held to (per language pair), the names the passages miss; ``refused_by`` is
    ``decide``'s word (None: the model would be asked)."""
    bar = (
        config.relevance_bar(evidence.question_lang, evidence.best_dense_lang)
        if evidence.best_dense_score is not None
        else None
    )
    refused_by = decide(evidence, config)
    if refused_by == "relevance":
        why = (
            "no passage found"
            if not evidence.passages
            else "no keyword match (dense search off)"
            if bar is None
            else f"best dense similarity {evidence.best_dense_score:.3f} is below the bar {bar}"
        )
    elif refused_by == "names":
        why = "the passages miss " + ", ".join(evidence.missing_names or [])
    else:
        why = "a passage clears the bar" + (
            "" if not config.check_names else "; every name asked about is found"
        )
    return {
        "refused_by": refused_by,
        "reason": why,
        "question_lang": evidence.question_lang,
        "best_dense_score": _rounded(evidence.best_dense_score),
        "best_dense_lang": evidence.best_dense_lang,
        "bar": bar,
        "missing_names": evidence.missing_names,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
