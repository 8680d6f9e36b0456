"""The answer chain: a question (and the conversation so far) in, a cited answer out, streamed as
typed events.

Depends on ``prompts``, ``retrieval`` and LangChain only. ``AnswerChain(search, chat_model, ...)``
takes plain callables; the app wires them from its settings.
"""

from answering.chain import AnswerChain, ChainOptions
from answering.context import best_dense, context_blocks, relevant_hits, texts_in_language
from answering.events import Answer, AnswerEvent, Citation, Done, Failed, Reading, Sources, Token
from answering.tidy import StreamTidier, is_refusal, tidy_answer

__all__ = [
    "Answer",
    "AnswerChain",
    "AnswerEvent",
    "Citation",
    "best_dense",
    "context_blocks",
    "ChainOptions",
    "Done",
    "Failed",
    "Reading",
    "Sources",
    "StreamTidier",
    "Token",
    "is_refusal",
    "relevant_hits",
    "texts_in_language",
    "tidy_answer",
]
