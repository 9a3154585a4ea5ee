"""Sources of every kind: each kind's defaults, its own keys, and the mistakes named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from syncer.config.load import load_settings
from syncer.config.model import Settings
from syncer.errors import ConfigError
from syncer.providers.profile import KINDS

DEFAULTS = {
    "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "anthropic": ("https://api.anthropic.com/v1", "ANTHROPIC_API_KEY"),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY"),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "mistral": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "together": ("https://api.together.ai/v1", "TOGETHER_API_KEY"),
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "deepseek": ("https://api.deepseek.com", "DEEPSEEK_API_KEY"),
    "xai": ("https://api.x.ai/v1", "XAI_API_KEY"),
    "cohere": ("https://api.cohere.com/v1", "CO_API_KEY"),
    "ollama": ("http://127.0.0.1:11434/v1", None),
    "vllm": ("http://127.0.0.1:8000/v1", "VLLM_API_KEY"),
}


def load(tmp_path: Path, text: str, **env: str) -> Settings:
    path = tmp_path / "syncer.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_settings(config_file=path, env=env)


@pytest.mark.parametrize("kind", sorted(DEFAULTS))
def test_a_two_line_source_gets_its_kinds_url_and_key_variable(tmp_path: Path, kind: str) -> None:
    url, variable = DEFAULTS[kind]
    env = {variable: f"key-of-{kind}"} if variable else {}

    (source,) = load(tmp_path, f'[[sources]]\nname = "s"\nkind = "{kind}"\n', **env).sources

    assert (source.kind, source.base_url) == (kind, url)
    assert source.api_key == (f"key-of-{kind}" if variable else None)


def test_every_kind_has_a_default_or_requires_a_base_url() -> None:
    assert set(DEFAULTS) | {"azure", "litellm"} == set(KINDS)


def test_api_key_env_overrides_the_kinds_variable(tmp_path: Path) -> None:
    (source,) = load(
        tmp_path,
        """
        [[sources]]
        name = "claude-team"
        kind = "anthropic"
        api_key_env = "TEAM_ANTHROPIC_KEY"
    """,
        ANTHROPIC_API_KEY="default",
        TEAM_ANTHROPIC_KEY="team",
    ).sources

    assert source.api_key == "team"


def test_an_unknown_kind_is_an_error_listing_the_kinds(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, '[[sources]]\nname = "s"\nkind = "bedrock"\n')

    assert str(info.value).startswith(
        f"{tmp_path / 'syncer.toml'}: sources[0].kind: unknown kind 'bedrock'; "
        "one of: openai, azure, anthropic"
    )


@pytest.mark.parametrize("kind", ["azure", "litellm"])
def test_a_kind_without_a_public_endpoint_requires_a_base_url(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f'[[sources]]\nname = "s"\nkind = "{kind}"\n')

    assert str(info.value) == (
        f"{tmp_path / 'syncer.toml'}: sources[0].base_url: required for kind {kind!r} "
        "(it has no public endpoint)"
    )


def test_azure_reads_its_api_and_api_version(tmp_path: Path) -> None:
    v1, classic = load(
        tmp_path,
        """
        [[sources]]
        name = "azure-eu"
        kind = "azure"
        base_url = "https://acme-eu.openai.azure.com/"

        [[sources]]
        name = "azure-us"
        kind = "azure"
        base_url = "https://acme-us.openai.azure.com"
        api = "classic"
        api_version = "2024-06-01"
    """,
        AZURE_OPENAI_API_KEY="k",
    ).sources

    assert (v1.base_url, v1.api, v1.profile.list_path) == (
        "https://acme-eu.openai.azure.com",
        None,
        "/openai/v1/models",
    )
    assert (classic.api, classic.api_version, classic.profile.list_path) == (
        "classic",
        "2024-06-01",
        "/openai/models",
    )


def test_an_unknown_azure_api_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\]\.api: unknown api 'v2'; one of: v1, cl"):
        load(
            tmp_path,
            """
            [[sources]]
            name = "a"
            kind = "azure"
            base_url = "https://acme.openai.azure.com"
            api = "v2"
        """,
        )


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("anthropic", "organization"),
        ("gemini", "project"),
        ("openai", "api"),
        ("openai", "api_version"),
        ("mistral", "api"),
    ],
)
def test_a_key_of_another_kind_is_an_error_naming_it(tmp_path: Path, kind: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f'[[sources]]\nname = "s"\nkind = "{kind}"\n{key} = "x"\n')

    assert str(info.value) == (
        f"{tmp_path / 'syncer.toml'}: sources[0].{key}: not a key of a source of kind {kind!r}"
    )


def test_a_kinds_key_variable_set_but_empty_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, '[[sources]]\nname = "claude"\nkind = "anthropic"\n', ANTHROPIC_API_KEY="")

    assert str(info.value) == (
        f"{tmp_path / 'syncer.toml'}: sources[0] (claude): ANTHROPIC_API_KEY is set but empty; "
        "unset it or give the key"
    )


def test_a_shared_retention_table_applies_only_to_kinds_that_can_delete(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [retention]
        max_age = "90d"
        include = ["ft:*"]

        [[sources]]
        name = "openai"

        [[sources]]
        name = "claude"
        kind = "anthropic"

        [[sources]]
        name = "mistral"
        kind = "mistral"
    """,
    )

    assert sorted(settings.retention) == ["mistral", "openai"]


def test_a_retention_rule_on_a_kind_that_cannot_delete_is_an_error_naming_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as info:
        load(
            tmp_path,
            """
            [[sources]]
            name = "gem"
            kind = "gemini"
            retention = { max_age = "90d", include = ["*"] }
        """,
        )

    assert str(info.value) == (
        f"{tmp_path / 'syncer.toml'}: source 'gem': retention: kind 'gemini' has no endpoint to "
        "delete fine-tuned models (retention works on: openai, mistral)"
    )
