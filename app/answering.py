"""Builds an AnswerChain for a knowledge base from the wired services."""

from app.chain import AnswerChain, ChainOptions


def build_chain(services, kb_name: str, *, provider: str | None = None, model: str | None = None,
                temperature: float | None = None, k: int | None = None) -> AnswerChain:
    from llm_backends import describe, explain_error

    s = services.settings
    services.store.get(kb_name)  # KBNotFound before any model is loaded
    chat_model, config = services.chat_model(provider, model, temperature)
    local = config.provider == "local"
    options = ChainOptions(
        k=k or s.search_k,
        min_dense_score=s.min_dense_score,
        # the local 270M model has a 2048-token window: keep its context short
        context_chars=s.context_chars or (1200 if local else 6000),
        prompts_dir=s.prompts_dir,
        condense_history=not local,  # a base model cannot rewrite questions reliably
    )
    info = describe(config)
    return AnswerChain(
        search=lambda query, kk: services.search(kb_name, query, kk),
        chat_model=chat_model,
        model_name=f"{info['provider']}:{info['model']}",
        options=options,
        explain_error=lambda exc: explain_error(exc, config),
    )
