"""LangChain's standard chat-model suites (langchain-tests) on the local adapter, with the default
packaged model: how outsiders judge a LangChain chat model."""

import os

import pytest

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

from langchain_tests.integration_tests import ChatModelIntegrationTests  # noqa: E402
from langchain_tests.unit_tests import ChatModelUnitTests  # noqa: E402

from llm_backends import LLMConfig, build_local_engine  # noqa: E402
from llm_backends.local import LocalChatModel  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    # one loaded copy for every test of the suite, as the app shares it
    return build_local_engine(
        LLMConfig(model="qwen2.5-coder-1.5b", models_dir=os.environ["KB_MODELS_DIR"])
    )


class LocalModelFeatures:
    """What the adapter offers, for both suites: plain chat, no tools or structured output."""

    @property
    def chat_model_class(self):
        return LocalChatModel

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False


class TestLocalChatModelUnit(LocalModelFeatures, ChatModelUnitTests):
    @property
    def chat_model_params(self) -> dict:
        return {"model_path": "/nonexistent/model.gguf", "model_name": "qwen2.5-coder-1.5b"}


class TestLocalChatModelIntegration(LocalModelFeatures, ChatModelIntegrationTests):
    @pytest.fixture(autouse=True)
    def _engine(self, engine):
        self._shared_engine = engine

    @property
    def chat_model_params(self) -> dict:
        return {"engine": getattr(self, "_shared_engine", None), "max_tokens": 48}

    @property
    def supports_json_mode(self) -> bool:
        return False

    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def returns_usage_metadata(self) -> bool:
        return True
