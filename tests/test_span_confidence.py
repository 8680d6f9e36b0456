"""The answer's first-clause confidence (answering.span_confidence): what is read, what is held
back, and the refusal in its place; the log-probabilities come from the real local model
(llm_backends.ChosenTokenLogprobs) in the last test."""

import os

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from answering import AnswerChain, ChainOptions
from answering.span_confidence import SpanConfidence, span_logprob
from retrieval import Hit

QUESTION = "底特律第二浸信会教堂在哪里？"
REFUSAL = "知识库中没有找到相关信息。"


def feed(gate: SpanConfidence, tokens: list[tuple[str, float]]):
    """The model's stream as the chain sees it: each piece's pair arrives one step late."""
    closed = []

    def pieces():
        try:
            for n, (text, _) in enumerate(tokens):
                gate.pairs.extend(tokens[n - 1 : n] if n else [])
                yield text
        finally:
            closed.append(True)

    return list(gate.stream(pieces())), closed


GUESS = [("底特律", -0.01), ("第二", -0.01), ("位于", -1.2), ("密歇根", -0.9), ("。", -0.1)]
SURE = [("位于", -0.05), ("底特律", -0.02), ("市中心", -0.1), ("。", -0.01), ("它", -2.0)]


def test_the_clause_words_not_the_questions_are_read():
    # 底特律 and 第二 repeat the question, 。 says nothing: the mean of 位于 and 密歇根
    assert span_logprob(QUESTION, GUESS) == -1.05
    assert span_logprob(QUESTION, [("底特律", -3.0), ("？", -2.0)]) is None


def test_without_a_threshold_nothing_is_held_and_the_score_is_read():
    gate = SpanConfidence(QUESTION, None, REFUSAL)
    out, closed = feed(gate, GUESS)
    assert out == [t for t, _ in GUESS] and gate.score == -1.05 and not gate.refused and closed


def test_an_unsure_clause_becomes_the_refusal_and_the_model_is_stopped():
    gate = SpanConfidence(QUESTION, -0.5, REFUSAL)
    out, closed = feed(gate, [*GUESS, ("更多", -0.1)])
    assert out == [REFUSAL] and gate.refused and closed == [True]


def test_a_sure_clause_is_released_whole_then_streamed():
    gate = SpanConfidence(QUESTION, -0.5, REFUSAL)
    out, _ = feed(gate, SURE)
    # held until its end (。), then the rest piece by piece; 它 came after the clause: not read
    assert out == ["位于底特律市中心。", "它"] and gate.score == -0.075 and not gate.refused


def test_a_list_number_does_not_end_the_clause():
    gate = SpanConfidence("怎么上传文档？", -0.5, REFUSAL)
    out, _ = feed(gate, [("1", -0.01), (". ", -0.01), ("打开", -2.0), ("页面", -1.0), ("。", 0.0)])
    assert out == [REFUSAL] and gate.score is not None and gate.score < -0.5


class ScoredModel(GenericFakeChatModel):
    """Streams tokens with their log-probabilities, as LocalChatModel does when asked."""

    reads_token_logprobs: bool = True
    tokens: list = []
    asked: list = []

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.asked.append(kwargs.get("token_logprobs"))
        for n, (text, _) in enumerate(self.tokens):
            pairs = self.tokens[n - 1 : n] if n else []
            message = AIMessageChunk(content=text, response_metadata={"token_logprobs": pairs})
            yield ChatGenerationChunk(message=message)


def scored_chain(tokens, threshold):
    passage = "底特律第二浸信会教堂是底特律的一座浸信会教堂，建于1836年。"
    hit = Hit(passage, 1.0, "church.txt", None, "d1", "c1", dense_score=0.95)
    model = ScoredModel(messages=iter([]), tokens=tokens, asked=[])
    options = ChainOptions(min_span_logprob=threshold)
    return AnswerChain(lambda q, k: [hit], model, "fake:m", options), model


def test_the_chain_refuses_an_unsure_answer_and_says_why():
    chain, model = scored_chain([*GUESS, (" [1]", -0.1)], threshold=-0.5)
    answer = chain.invoke(QUESTION)
    assert model.asked == [True] and not answer.found and answer.refused_by == "confidence"
    assert answer.signals["span_logprob"] == -1.05 and answer.citations == []


def test_the_chain_keeps_a_sure_answer_and_records_its_score():
    chain, _ = scored_chain([*SURE[:4], (" [1]", -0.1)], threshold=-0.5)
    answer = chain.invoke(QUESTION)
    assert answer.found and answer.answer.startswith("位于底特律市中心。")
    assert answer.signals["span_logprob"] == -0.075 and answer.refused_by is None


def test_the_real_local_model_reports_its_chosen_tokens():
    from llama_cpp import LogitsProcessorList

    from llm_backends import LLMConfig, build_local_engine
    from llm_backends.token_logprobs import ChosenTokenLogprobs

    config = LLMConfig(model="gemma-3-270m", models_dir=os.environ["KB_MODELS_DIR"])
    llama = build_local_engine(config).load()
    prompt = llama.tokenize("资料：张三住在杭州。\n问：张三住在哪里？\n答：张三住在".encode())
    recorder = ChosenTokenLogprobs(llama, len(prompt))
    processors = LogitsProcessorList([recorder])
    out = llama.create_completion(
        prompt=prompt, max_tokens=6, temperature=0.0, logits_processor=processors
    )
    pairs = recorder.take()
    assert pairs and all(lp <= 0.0 for _, lp in pairs)
    # every chosen token but the last, in order
    assert out["choices"][0]["text"].startswith("".join(t for t, _ in pairs))
    assert len(pairs) == out["usage"]["completion_tokens"] - 1
    # copying the passage's word: the model is sure of it
    assert pairs[0][0].strip() and "杭州".startswith(pairs[0][0].strip()) and pairs[0][1] > -0.7
