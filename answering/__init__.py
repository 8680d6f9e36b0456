"""The answer chain: a question (and the conversation so far) in, a cited answer out, streamed as
typed events.

Depends on ``prompts``, ``retrieval`` and LangChain only. ``AnswerChain(search, chat_model, ...)``
takes plain callables; the app wires them from its settings.
"""

from answering.chain import AnswerChain
from answering.context import best_dense, context_blocks
from answering.events import Answer, AnswerEvent, Citation, Done, Failed, Reading, Sources, Token
from answering.formula_lines import reflow_formula_lines
from answering.options import ChainOptions
from answering.refusal import Evidence, RefusalConfig, decide, explain_decision
from answering.structure import StructureQuestion, classify
from answering.structure_answer import StructureAnswerer
from answering.structure_find import DocumentOutline
from answering.tidy import StreamTidier, is_refusal, tidy_answer

__all__ = [
    "Answer",
    "AnswerChain",
    "AnswerEvent",
    "Citation",
    "best_dense",
    "context_blocks",
    "ChainOptions",
    "decide",
    "explain_decision",
    "Done",
    "DocumentOutline",
    "StructureAnswerer",
    "StructureQuestion",
    "classify",
    "Evidence",
    "Failed",
    "Reading",
    "RefusalConfig",
    "Sources",
    "StreamTidier",
    "Token",
    "is_refusal",
    "reflow_formula_lines",
    "tidy_answer",
]
