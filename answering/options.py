"""The answer chain's options, on their own so that every part of the chain can read them."""

from dataclasses import dataclass, field

from answering.refusal import RefusalConfig


@dataclass
class ChainOptions:
    k: int = 5
    refusal: RefusalConfig = field(default_factory=RefusalConfig)
    context_tokens: int = 3000  # sources budget in tokens (answering.context.context_blocks)
    prompts_dir: str | None = None
    condense_history: bool = True
    history_turns: int = 6  # messages of history given to the condenser
    # say after the question when the sources are in the other language (prompts.answer_messages)
    cross_language_hint: bool = False
