"""LangChain's own standard tests for retrievers, run on a real knowledge base (real embeddings,
Chroma and keyword index): ``KnowledgeBaseRetriever`` behaves as any LangChain retriever must."""

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from retrieval import KnowledgeBaseRetriever

PASSAGES = [
    "南瓜书是对西瓜书中公式的详细推导。",
    "西瓜书是周志华老师编写的机器学习教材。",
    "支持向量机通过最大化间隔来寻找分类超平面。",
    "The pumpkin book explains the derivations of the watermelon book step by step.",
    "Gradient descent updates the parameters against the gradient of the loss.",
    "决策树根据信息增益选择划分属性。",
]


@functools.cache
def _knowledge_base():
    from app.operations import Operations
    from app.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="kb-retriever-"))
    atexit.register(shutil.rmtree, data, True)
    ops = Operations.from_settings(Settings(data_dir=data, _env_file=None))
    kb = ops.knowledge.open("retriever", create=True)
    kb.add_document(
        "doc-1",
        "notes.md",
        [
            Document(page_content=p, metadata={"source": "notes.md", "page": i + 1})
            for i, p in enumerate(PASSAGES)
        ],
    )
    return kb


class TestKnowledgeBaseRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[KnowledgeBaseRetriever]:
        return KnowledgeBaseRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"kb": _knowledge_base()}

    @property
    def retriever_query_example(self) -> str:
        return "南瓜书是什么？"


def test_documents_carry_source_page_and_filter():
    retriever = KnowledgeBaseRetriever(kb=_knowledge_base(), k=2)
    docs = retriever.invoke("What does the pumpkin book explain?")
    assert docs[0].page_content == PASSAGES[3]
    assert docs[0].metadata["source"] == "notes.md" and docs[0].metadata["page"] == 4
    assert (
        KnowledgeBaseRetriever(kb=_knowledge_base(), doc_ids=["no-such-doc"]).invoke("南瓜书") == []
    )
    keyword_only = KnowledgeBaseRetriever(kb=_knowledge_base(), mode="keyword", k=1).invoke(
        "信息增益"
    )
    assert [d.page_content for d in keyword_only] == [PASSAGES[5]]
