"""Builds an AnswerChain for a knowledge base from the wired services."""

from app.chain import AnswerChain, ChainOptions


def build_chain(services, kb_name: str, *, provider: str | None = None, model: str | None = None,
                temperature: float | None = None, k: int | None = None,
                max_tokens: int | None = None) -> AnswerChain:
    from llm_backends import describe, explain_error, model_profile

    s = services.settings
    services.store.get(kb_name)  # KBNotFound before any model is loaded
    chat_model, config = services.chat_model(provider, model, temperature, max_tokens)
    profile = model_profile(config)
    options = ChainOptions(
        k=k or s.search_k,
        min_dense_score=s.min_dense_score,
        min_cross_lingual_score=s.min_cross_lingual_score,
        context_tokens=s.context_tokens or profile.context_tokens,
        prompts_dir=s.prompts_dir,
        condense_history=profile.condense_history,
    )
    info = describe(config)
    return AnswerChain(
        search=lambda query, kk: services.search(kb_name, query, kk),
        chat_model=chat_model,
        model_name=f"{info['provider']}:{info['model']}",
        options=options,
        explain_error=lambda exc: explain_error(exc, config),
        missing_names=services.name_check.missing if s.check_names else None,
    )
