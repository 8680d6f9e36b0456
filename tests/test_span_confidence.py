"""The answer's first-clause confidence (answering.span_confidence): what is read, recorded as
evidence and refusing nothing; the log-probabilities come from the real local model
(llm_backends.ChosenTokenLogprobs) in the last test."""

import math
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


def test_nothing_is_held_and_the_score_is_read():
    gate = SpanConfidence(QUESTION)
    out, closed = feed(gate, GUESS)
    assert out == [t for t, _ in GUESS] and gate.score == -1.05 and closed


def test_the_clause_ends_at_its_first_sentence_end():
    gate = SpanConfidence(QUESTION)
    out, _ = feed(gate, SURE)
    # 它 came after the clause: not read
    assert out == [t for t, _ in SURE] and gate.score == -0.075


def test_a_list_number_does_not_end_the_clause():
    gate = SpanConfidence("怎么上传文档？")
    feed(gate, [("1", -0.01), (". ", -0.01), ("打开", -2.0), ("页面", -1.0), ("。", 0.0)])
    # read at 。, not at "1. ": the list number's tokens alone would be sure (-0.01)
    assert gate.score is not None and gate.score < -0.5


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


def scored_chain(tokens):
    passage = "底特律第二浸信会教堂是底特律的一座浸信会教堂，建于1836年。"
    hit = Hit(passage, 1.0, "church.txt", None, "d1", "c1", dense_score=0.95)
    model = ScoredModel(messages=iter([]), tokens=tokens, asked=[])
    return AnswerChain(lambda q, k: [hit], model, "fake:m", ChainOptions()), model


def test_the_chain_records_an_unsure_answers_score_and_refuses_nothing():
    chain, model = scored_chain([*GUESS, (" [1]", -0.1)])
    answer = chain.invoke(QUESTION)
    assert model.asked == [True] and answer.found and answer.refused_by is None
    assert answer.signals["span_logprob"] == -1.05 and answer.answer.startswith("底特律第二位于")


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
    # greedy decoding: each recorded token is the one the model found most likely, so its
    # log-probability is at least that of a uniform guess over the vocabulary (holds for any
    # kernels; the value itself differs from one CPU build to another)
    assert all(lp >= -math.log(llama.n_vocab()) for _, lp in pairs)
