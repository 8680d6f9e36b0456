"""The model's answer cap and prompt lookup are typed settings, mapped onto LLMConfig by the app (no
model runs)."""

from app.services import Services
from app.settings import Settings


def test_the_local_answer_cap_and_prompt_lookup_come_from_settings(tmp_path):
    config = Services(Settings(data_dir=tmp_path, llm_provider="local")).llm_config()
    assert config.max_tokens == 192 and config.prompt_lookup_tokens == 0  # the measured defaults
    tuned = Services(
        Settings(data_dir=tmp_path, local_max_tokens=96, llm_prompt_lookup_tokens=10)
    ).llm_config()
    assert tuned.max_tokens == 96 and tuned.prompt_lookup_tokens == 10
    assert (
        Services(Settings(data_dir=tmp_path, local_max_tokens=96, llm_max_tokens=40))
        .llm_config()
        .max_tokens
        == 40
    )
    # a request's own
    assert Services(Settings(data_dir=tmp_path)).llm_config(max_tokens=12).max_tokens == 12


def test_a_remote_provider_keeps_its_profile_cap(tmp_path):
    config = Services(
        Settings(data_dir=tmp_path, llm_provider="openai", local_max_tokens=96)
    ).llm_config()
    assert config.max_tokens == 512
