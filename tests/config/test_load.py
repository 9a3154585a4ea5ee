"""Settings from the command line, the environment and a TOML file, validated once."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.config.load import load_settings
from syncer.config.model import (
    DEFAULT_BASE_URL,
    DEFAULT_DATABASE_URL,
    DEFAULT_EVERY,
    DEFAULT_JITTER,
    HTTPSettings,
    Settings,
    Source,
    SyncPolicy,
)
from syncer.errors import ConfigError
from syncer.timeutil import parse_duration, parse_moment

SECRET = "sk-test-SECRET-0123456789abcdef"
OTHER_SECRET = "sk-or-v1-OTHER-SECRET-fedcba9876543210"


def write(tmp_path: Path, text: str, name: str = "syncer.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_file(path: Path, **env: str) -> Settings:
    return load_settings(config_file=path, env=env)


# --- no file: the OpenAI SDK's environment -------------------------------------------------------


def test_without_a_file_there_is_one_openai_source_with_the_defaults() -> None:
    result = load_settings(env={})

    assert result.sources == (Source(name="openai", base_url=DEFAULT_BASE_URL),)
    source = result.sources[0]
    assert source.api_key is None
    assert dict(source.headers) == {}
    assert source.every is None
    assert source.cron is None
    assert result.database_url == "sqlite:///syncer.db" == DEFAULT_DATABASE_URL
    assert result.config_file is None
    assert result.http == HTTPSettings()
    assert result.policy == SyncPolicy()
    assert result.schedule.every == DEFAULT_EVERY == timedelta(minutes=15)
    assert result.schedule.jitter == DEFAULT_JITTER
    assert result.schedule.cron is None


def test_without_a_file_the_source_follows_the_openai_sdk_environment() -> None:
    env = {
        "OPENAI_API_KEY": SECRET,
        "OPENAI_BASE_URL": "https://gateway.example.com/openai/v1/",
        "OPENAI_ORG_ID": "org-acme",
        "OPENAI_PROJECT_ID": "proj_123",
    }

    (source,) = load_settings(env=env).sources

    assert source.name == "openai"
    assert source.api_key == SECRET
    assert source.base_url == "https://gateway.example.com/openai/v1"
    assert dict(source.headers) == {"OpenAI-Organization": "org-acme", "OpenAI-Project": "proj_123"}


def test_empty_sdk_variables_other_than_the_key_count_as_unset() -> None:
    names = ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")
    env = dict.fromkeys(names, "")

    (source,) = load_settings(env=env).sources

    assert source.api_key is None
    assert source.base_url == DEFAULT_BASE_URL
    assert dict(source.headers) == {}


def test_an_empty_sdk_key_variable_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"^environment: OPENAI_API_KEY is set but empty"):
        load_settings(env={"OPENAI_API_KEY": ""})


def test_every_trailing_slash_of_the_base_url_is_stripped() -> None:
    (source,) = load_settings(env={"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1//"}).sources

    assert source.base_url == "http://127.0.0.1:8000/v1"


def test_the_base_url_option_wins_over_the_environment() -> None:
    env = {"OPENAI_BASE_URL": "https://env.example.com/v1"}

    (source,) = load_settings(base_url="https://cli.example.com/v1/", env=env).sources

    assert source.base_url == "https://cli.example.com/v1"


@pytest.mark.parametrize("url", ["api.openai.com/v1", "ftp://example.com", "file:///tmp/x"])
def test_a_base_url_that_is_not_http_is_an_error(url: str) -> None:
    with pytest.raises(ConfigError, match=r"base_url: .* is not an http\(s\) URL"):
        load_settings(env={"OPENAI_BASE_URL": url})


def test_the_environment_is_read_from_os_environ_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SYNCER_CONFIG", raising=False)
    monkeypatch.delenv("SYNCER_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    (source,) = load_settings().sources

    assert source.api_key == SECRET


# --- the database URL ----------------------------------------------------------------------------


def test_the_database_url_option_wins_over_environment_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///file.db"\n')
    env = {"SYNCER_DATABASE_URL": "sqlite:///env.db"}

    result = load_settings(config_file=path, database_url="sqlite:///cli.db", env=env)

    assert result.database_url == "sqlite:///cli.db"


def test_the_environment_database_url_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///file.db"\n')

    result = load_file(path, SYNCER_DATABASE_URL="postgresql+psycopg://db/syncer")

    assert result.database_url == "postgresql+psycopg://db/syncer"


def test_the_file_database_url_wins_over_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///file.db"\n')

    assert load_file(path).database_url == "sqlite:///file.db"


def test_an_empty_database_url_variable_falls_through_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///file.db"\n')

    assert load_file(path, SYNCER_DATABASE_URL="").database_url == "sqlite:///file.db"


def test_the_database_url_option_wins_without_a_file() -> None:
    result = load_settings(database_url="sqlite:///cli.db", env={"SYNCER_DATABASE_URL": "x"})

    assert result.database_url == "sqlite:///cli.db"


# --- which file ----------------------------------------------------------------------------------


def test_syncer_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///named.db"\n')

    result = load_settings(env={"SYNCER_CONFIG": str(path)})

    assert result.config_file == path
    assert result.database_url == "sqlite:///named.db"


def test_the_config_file_option_wins_over_syncer_config(tmp_path: Path) -> None:
    chosen = write(tmp_path, 'database_url = "sqlite:///chosen.db"\n', "chosen.toml")
    ignored = write(tmp_path, 'database_url = "sqlite:///ignored.db"\n', "ignored.toml")

    result = load_settings(config_file=str(chosen), env={"SYNCER_CONFIG": str(ignored)})

    assert result.config_file == chosen
    assert result.database_url == "sqlite:///chosen.db"


def test_syncer_toml_in_the_current_directory_is_read_without_config_or_syncer_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, 'database_url = "sqlite:///here.db"\n')
    monkeypatch.chdir(tmp_path)

    result = load_settings(env={})

    assert result.config_file == Path("syncer.toml")
    assert result.database_url == "sqlite:///here.db"


def test_config_and_syncer_config_win_over_syncer_toml_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, 'database_url = "sqlite:///here.db"\n')
    named = write(tmp_path, 'database_url = "sqlite:///named.db"\n', "named.toml")
    monkeypatch.chdir(tmp_path)

    by_env = load_settings(env={"SYNCER_CONFIG": str(named)})
    by_option = load_settings(config_file=str(named), env={})

    assert by_env.database_url == by_option.database_url == "sqlite:///named.db"


def test_without_any_file_the_settings_say_no_file_was_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = load_settings(env={})

    assert result.config_file is None
    with pytest.raises(ConfigError) as caught:
        result.source("nope")
    assert str(caught.value) == (
        "unknown source 'nope' (configured: openai); no configuration file loaded "
        "(--config FILE, $SYNCER_CONFIG or ./syncer.toml)"
    )


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    result = load_file(write(tmp_path, ""), OPENAI_API_KEY=SECRET)

    assert result.database_url == DEFAULT_DATABASE_URL
    assert [s.name for s in result.sources] == ["openai"]
    assert result.sources[0].api_key == SECRET


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    assert str(caught.value) == f"{path}: config file not found"


def test_a_missing_file_named_by_syncer_config_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"

    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_settings(env={"SYNCER_CONFIG": str(path)})


def test_a_directory_as_the_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_file(tmp_path)

    assert str(caught.value).startswith(f"{tmp_path}: cannot read config file")


def test_invalid_toml_is_an_error_naming_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///a.db"\n[sync\n')

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 2" in message


def test_a_file_that_is_not_utf8_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('database_url = "sqlite:///café.db"\n'.encode("latin-1"))

    with pytest.raises(ConfigError, match=r"latin1\.toml"):
        load_file(path)


# --- sources -------------------------------------------------------------------------------------

SOURCES = """
    [[sources]]
    name = "openai"
    api_key_env = "WORK_OPENAI_KEY"
    organization = "org-acme"
    project = "proj_1"
    every = "5m"

    [[sources]]
    name = "openrouter"
    base_url = "https://openrouter.ai/api/v1/"
    api_key_env = "OPENROUTER_API_KEY"
    headers = { "HTTP-Referer" = "https://acme.example.com", "X-Title" = "syncer" }
    cron = "0 * * * *"
"""


def test_several_sources_are_read_in_order_with_their_keys_and_headers(tmp_path: Path) -> None:
    env = {"WORK_OPENAI_KEY": SECRET, "OPENROUTER_API_KEY": OTHER_SECRET, "OPENAI_API_KEY": "no"}

    result = load_file(write(tmp_path, SOURCES), **env)

    openai, openrouter = result.sources
    assert openai.name == "openai"
    assert openai.base_url == DEFAULT_BASE_URL
    assert openai.api_key == SECRET
    assert dict(openai.headers) == {"OpenAI-Organization": "org-acme", "OpenAI-Project": "proj_1"}
    assert openai.every == timedelta(minutes=5)
    assert openai.cron is None
    assert openrouter.name == "openrouter"
    assert openrouter.base_url == "https://openrouter.ai/api/v1"
    assert openrouter.api_key == OTHER_SECRET
    assert dict(openrouter.headers) == {
        "HTTP-Referer": "https://acme.example.com",
        "X-Title": "syncer",
    }
    assert openrouter.every is None
    assert openrouter.cron == "0 * * * *"


def test_a_source_reads_openai_api_key_by_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "main"\n')

    (source,) = load_file(path, OPENAI_API_KEY=SECRET).sources

    assert source.api_key == SECRET


def test_a_source_whose_key_variable_is_unset_has_no_key(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCES)

    openai, openrouter = load_file(path).sources

    assert openai.api_key is None
    assert openrouter.api_key is None


@pytest.mark.parametrize("value", ["", "  "])
def test_a_source_whose_key_variable_is_set_but_empty_is_an_error(
    tmp_path: Path, value: str
) -> None:
    path = write(tmp_path, SOURCES)

    with pytest.raises(ConfigError) as info:
        load_file(path, WORK_OPENAI_KEY=value)

    assert str(info.value) == (
        f"{path}: sources[0] (openai): WORK_OPENAI_KEY is set but empty; unset it or give the key"
    )


def test_file_sources_ignore_the_sdk_environment(tmp_path: Path) -> None:
    env = {"OPENAI_BASE_URL": "https://env.example.com/v1", "OPENAI_ORG_ID": "org-env"}

    (source,) = load_file(write(tmp_path, '[[sources]]\nname = "main"\n'), **env).sources

    assert source.base_url == DEFAULT_BASE_URL
    assert dict(source.headers) == {}


def test_organization_wins_over_the_same_header_given_by_hand(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[sources]]
        name = "main"
        organization = "org-key"
        headers = { "OpenAI-Organization" = "org-header" }
        """,
    )

    (source,) = load_file(path).sources

    assert dict(source.headers) == {"OpenAI-Organization": "org-key"}


def test_the_base_url_option_cannot_be_combined_with_file_sources(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "main"\n')

    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=path, base_url="https://x.example.com", env={})

    assert str(caught.value) == (
        f"{path}: --base-url applies only without [[sources]]; set base_url there"
    )


SOURCE_A = '[[sources]]\nname = "a"\n'


def test_duplicate_source_names_are_an_error_naming_file_key_and_name(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "a"\n[[sources]]\nname = "b"\n' + SOURCE_A)

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    assert str(caught.value) == f"{path}: sources: source name 'a' is used twice"


def test_a_source_every_given_as_a_number_is_seconds(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[[sources]]\nname = "a"\nevery = 5\n[[sources]]\nname = "b"\nevery = 2.5\n'
    )

    first, second = load_file(path).sources

    assert first.every == timedelta(seconds=5)
    assert second.every == timedelta(seconds=2.5)


def test_stop_timeout_is_20_seconds_unless_run_says_otherwise(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "")).stop_timeout == timedelta(seconds=20)
    assert load_file(write(tmp_path, "[run]\nstop_timeout = '1m'\n")).stop_timeout == (
        timedelta(minutes=1)
    )
    assert load_file(write(tmp_path, "[run]\nstop_timeout = 5\n")).stop_timeout == (
        timedelta(seconds=5)
    )


# --- errors name the file and the key ------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("colour = 'blue'", "colour", "unknown key"),
        ("[[sources]]\nname = 'a'\napi_key = 'sk-x'", "sources[0].api_key", "unknown key"),
        ("[schedule]\nevry = '5m'", "schedule.evry", "unknown key"),
        ("[sync]\nshare = 0.5", "sync.share", "unknown key"),
        ("[http]\ntimeout = 5", "http.timeout", "unknown key"),
        ("database_url = 5", "database_url", "expected str, got int 5"),
        ("sources = 'openai'", "sources", "expected list, got str"),
        ("[sources]\nname = 'a'", "sources", "expected list, got dict"),
        ("sources = [1]", "sources[0]", "each source must be a table"),
        ("[[sources]]\nbase_url = 'https://x'", "sources[0].name", "required"),
        ("[[sources]]\nname = ''", "sources[0].name", "required"),
        ("[[sources]]\nname = 'has space'", "sources[0].name", "required"),
        ("[[sources]]\nname = 5", "sources[0].name", "expected str, got int"),
        ("[[sources]]\nname = 'a'\nbase_url = 'x.com'", "sources[0].base_url", "not an http"),
        ("[[sources]]\nname = 'a'\napi_key_env = 1", "sources[0].api_key_env", "expected str"),
        ("[[sources]]\nname = 'a'\nheaders = 'x'", "sources[0].headers", "expected dict"),
        ("[[sources]]\nname = 'a'\nheaders = {X = 1}", "sources[0].headers.X", "must be strings"),
        ("[[sources]]\nname = 'a'\norganization = 7", "sources[0].organization", "expected str"),
        ("[[sources]]\nname = 'a'\nproject = true", "sources[0].project", "expected str"),
        ("[[sources]]\nname = 'a'\nevery = 'soon'", "sources[0].every", "not a duration"),
        ("[[sources]]\nname = 'a'\nevery = 0", "sources[0].every", "must be positive"),
        ("[[sources]]\nname = 'a'\nevery = true", "sources[0].every", "expected str or int"),
        ("[[sources]]\nname = 'a'\ncron = 'often'", "sources[0].cron", "not a cron expression"),
        ("schedule = 5", "schedule", "expected dict, got int"),
        ("[schedule]\nevery = 'soon'", "schedule.every", "not a duration"),
        ("[schedule]\nevery = -5", "schedule.every", "must be positive"),
        ("[schedule]\nevery = '0m'", "schedule.every", "must be positive"),
        ("[schedule]\ncron = '* * *'", "schedule.cron", "not a cron expression"),
        ("[schedule]\njitter = 'soon'", "schedule.jitter", "not a duration"),
        ("[schedule]\njitter = false", "schedule.jitter", "expected str or int or float"),
        ("[sync]\nmass_vanish_share = 2", "sync.mass_vanish_share", "between 0 and 1"),
        ("[sync]\nmass_vanish_share = 1.01", "sync.mass_vanish_share", "between 0 and 1"),
        ("[sync]\nmass_vanish_share = 0", "sync.mass_vanish_share", "must be positive"),
        ("[sync]\nmass_vanish_share = '50%'", "sync.mass_vanish_share", "expected int or float"),
        ("[sync]\nmass_vanish_share = true", "sync.mass_vanish_share", "got bool True"),
        ("[sync]\naccept_mass_change = 'yes'", "sync.accept_mass_change", "expected bool"),
        ("[sync]\nconfirm_vanish_limit = -1", "sync.confirm_vanish_limit", "zero or more"),
        ("[sync]\nconfirm_vanish_limit = 2.5", "sync.confirm_vanish_limit", "expected int"),
        ("[sync]\nconfirm_vanish_limit = true", "sync.confirm_vanish_limit", "got bool True"),
        ("[http]\nmax_retries = true", "http.max_retries", "expected int, got bool True"),
        ("[http]\nmax_retries = -1", "http.max_retries", "zero or more"),
        ("[http]\nmax_retries = 1.5", "http.max_retries", "expected int, got float"),
        ("[http]\nconnect_timeout = 'fast'", "http.connect_timeout", "expected int or float"),
        ("[http]\nread_timeout = 0", "http.read_timeout", "must be positive"),
        ("[http]\nbackoff_base = -0.5", "http.backoff_base", "must be positive"),
        ("[http]\nretry_after_cap = false", "http.retry_after_cap", "got bool False"),
        ("[run]\nstop_timeout = 'soon'", "run.stop_timeout", "not a duration"),
        ("[run]\nstop_timeout = 0", "run.stop_timeout", "must be positive"),
        ("[run]\nstoptimeout = '5s'", "run.stoptimeout", "unknown key"),
        ("run = 5", "run", "expected dict, got int"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_file_and_the_key(
    tmp_path: Path, toml: str, key: str, problem: str
) -> None:
    path = write(tmp_path, toml + "\n")

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ")
    assert problem in message


def test_an_unknown_key_error_lists_the_keys_that_are_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "[schedule]\nevry = '5m'\n")

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    assert str(caught.value) == (
        f"{path}: schedule.evry: unknown key (expected one of: cron, every, jitter, lease)"
    )


def test_a_wrong_type_error_quotes_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "[http]\nmax_retries = true\n")

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    assert str(caught.value) == f"{path}: http.max_retries: expected int, got bool True"


def test_errors_in_the_second_source_name_its_index(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "a"\n[[sources]]\nname = "b"\nevery = "soon"\n')

    with pytest.raises(ConfigError, match=r"sources\[1\]\.every: 'soon' is not a duration"):
        load_file(path)


def test_a_bad_database_url_in_the_file_is_an_error_even_when_overridden(tmp_path: Path) -> None:
    path = write(tmp_path, "database_url = 5\n")

    with pytest.raises(ConfigError, match="database_url: expected str"):
        load_file(path, SYNCER_DATABASE_URL="sqlite:///env.db")


def test_a_nan_mass_vanish_share_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[sync]\nmass_vanish_share = nan\n")

    with pytest.raises(ConfigError, match=r"sync\.mass_vanish_share"):
        load_file(path)


@pytest.mark.parametrize(
    "toml",
    [
        "[schedule]\nevery = inf",
        "[schedule]\nevery = 1e20",
        "[schedule]\nevery = '99999999999w'",
        "[schedule]\njitter = inf",
        "[[sources]]\nname = 'a'\nevery = inf",
    ],
)
def test_an_infinite_or_huge_duration_is_an_error_naming_the_key(tmp_path: Path, toml: str) -> None:
    with pytest.raises(ConfigError):
        load_file(write(tmp_path, toml + "\n"))


# --- good values ---------------------------------------------------------------------------------


def test_every_table_is_read_into_typed_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        database_url = "sqlite:///models.db"

        [schedule]
        cron = "*/10 * * * *"
        jitter = "10s"

        [sync]
        mass_vanish_share = 0.25
        accept_mass_change = true
        confirm_vanish_limit = 0

        [http]
        connect_timeout = 3
        read_timeout = 12.5
        max_retries = 0
        backoff_base = 1
        backoff_max = 8
        retry_after_cap = 20
        """,
    )

    result = load_file(path)

    assert result.database_url == "sqlite:///models.db"
    assert result.schedule.every == DEFAULT_EVERY
    assert result.schedule.cron == "*/10 * * * *"
    assert result.schedule.jitter == timedelta(seconds=10)
    assert result.policy == SyncPolicy(
        mass_vanish_share=0.25, accept_mass_change=True, confirm_vanish_limit=0
    )
    assert result.http == HTTPSettings(
        connect_timeout=3.0,
        read_timeout=12.5,
        max_retries=0,
        backoff_base=1.0,
        backoff_max=8.0,
        retry_after_cap=20.0,
    )
    assert isinstance(result.http.connect_timeout, float)
    assert result.config_file == path


def test_schedule_every_given_as_a_number_is_seconds(tmp_path: Path) -> None:
    result = load_file(write(tmp_path, "[schedule]\nevery = 5\n"))

    assert result.schedule.every == timedelta(seconds=5)


@pytest.mark.parametrize("jitter", ["0", "0.0", "'0'"])
def test_a_zero_jitter_turns_jitter_off(tmp_path: Path, jitter: str) -> None:
    result = load_file(write(tmp_path, f"[schedule]\njitter = {jitter}\n"))

    assert result.schedule.jitter == timedelta(0)


def test_a_mass_vanish_share_of_one_is_allowed(tmp_path: Path) -> None:
    result = load_file(write(tmp_path, "[sync]\nmass_vanish_share = 1\n"))

    assert result.policy.mass_vanish_share == 1.0
    assert isinstance(result.policy.mass_vanish_share, float)


def test_the_accept_mass_change_option_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[sync]\naccept_mass_change = false\n")

    result = load_settings(config_file=path, accept_mass_change=True, env={})

    assert result.policy.accept_mass_change is True


def test_the_every_option_wins_over_the_file_schedule_and_its_cron(tmp_path: Path) -> None:
    path = write(tmp_path, "[schedule]\ncron = '0 * * * *'\n")

    result = load_settings(config_file=path, every="90s", env={})

    assert result.schedule.every == timedelta(seconds=90)
    assert result.schedule.cron is None


def test_a_bad_every_option_is_an_error_naming_the_option() -> None:
    with pytest.raises(ConfigError, match=r"^--every: 'soon' is not a duration"):
        load_settings(every="soon", env={})


def test_a_zero_every_option_is_an_error() -> None:
    with pytest.raises(ConfigError, match="--every"):
        load_settings(every="0s", env={})


# --- the key stays out of repr -------------------------------------------------------------------


def test_repr_of_settings_and_sources_never_shows_the_api_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[sources]]
        name = "openai"
        api_key_env = "WORK_OPENAI_KEY"

        [[sources]]
        name = "gateway"
        base_url = "https://gateway.example.com/v1"
        headers = { Authorization = "Bearer sk-test-SECRET-in-a-header" }
        """,
    )

    result = load_file(path, WORK_OPENAI_KEY=SECRET, OPENAI_API_KEY=OTHER_SECRET)

    assert result.sources[0].api_key == SECRET
    texts = [repr(result), str(result), *map(repr, result.sources), *map(str, result.sources)]
    texts += [repr(source.endpoint()) for source in result.sources]
    for text in texts:
        assert SECRET not in text
        assert OTHER_SECRET not in text
        assert "SECRET-in-a-header" not in text
    assert "openai" in repr(result.sources[0])
    assert "gateway" in repr(result.sources[1].endpoint())


def test_repr_of_sdk_settings_never_shows_the_api_key() -> None:
    result = load_settings(env={"OPENAI_API_KEY": SECRET})

    assert result.sources[0].api_key == SECRET
    assert SECRET not in repr(result)
    assert SECRET not in repr(result.sources[0])


# --- choosing sources ----------------------------------------------------------------------------


def test_select_none_is_every_source_and_a_name_is_that_source(tmp_path: Path) -> None:
    result = load_file(write(tmp_path, SOURCES))

    assert result.select(None) == result.sources
    assert [s.name for s in result.select(None)] == ["openai", "openrouter"]
    assert result.select("openrouter") == (result.sources[1],)
    assert result.source("openai") is result.sources[0]


def test_selecting_an_unknown_source_is_an_error_listing_the_known_ones(tmp_path: Path) -> None:
    result = load_file(write(tmp_path, SOURCES))

    with pytest.raises(ConfigError) as caught:
        result.select("x")

    assert str(caught.value) == "unknown source 'x' (configured: openai, openrouter)"


# --- parse_duration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("12h", timedelta(hours=12)),
        ("1.5h", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        (" 15 m ", timedelta(minutes=15)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration_reads_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "15", "m", "-5m", "5y", "5 minutes", "1e3s", "5M", "PT5M", "1h30m", ".5h"]
)
def test_parse_duration_rejects_anything_else_with_an_example(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)

    assert str(caught.value) == f"{text!r} is not a duration like '15m', '12h' or '7d'"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=100_000), st.sampled_from(["s", "m", "h", "d", "w"]))
def test_parse_duration_of_whole_units_is_exact(count: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]

    assert parse_duration(f"{count}{unit}") == timedelta(seconds=count * seconds)


@pytest.mark.parametrize("text", ["99999999999d", "9999999999999w"])
def test_a_span_too_long_to_represent_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_moment(text, datetime(2025, 6, 1, tzinfo=UTC))


# --- parse_moment --------------------------------------------------------------------------------

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        ("2025-06-01T08:30:00", datetime(2025, 6, 1, 8, 30, tzinfo=UTC)),
        ("2025-06-01T08:30:00Z", datetime(2025, 6, 1, 8, 30, tzinfo=UTC)),
        ("2025-06-01T08:30:00+02:00", datetime(2025, 6, 1, 6, 30, tzinfo=UTC)),
        ("2025-06-01T20:00:00-05:00", datetime(2025, 6, 2, 1, 0, tzinfo=UTC)),
        (" 2025-06-01 ", datetime(2025, 6, 1, tzinfo=UTC)),
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
    ],
)
def test_parse_moment_reads_iso_times_as_utc_and_spans_back_from_now(
    text: str, expected: datetime
) -> None:
    moment = parse_moment(text, NOW)

    assert moment == expected
    assert moment.tzinfo == UTC


def test_parse_moment_normalises_an_offset_to_the_utc_zone_itself() -> None:
    moment = parse_moment("2025-06-01T08:30:00+02:00", NOW)

    assert moment.tzinfo is UTC
    assert moment.hour == 6


@pytest.mark.parametrize("text", ["", "soon", "yesterday", "2025-13-01", "7 days", "-7d"])
def test_parse_moment_rejects_garbage_with_a_value_error_saying_what_is_accepted(
    text: str,
) -> None:
    with pytest.raises(ValueError) as caught:
        parse_moment(text, NOW)

    assert str(caught.value) == (
        f"{text!r} is not a time: use an ISO-8601 date or date-time, or a span like '7d'"
    )


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_parse_moment_reads_back_any_iso_date_time_as_the_same_instant_in_utc(
    moment: datetime,
) -> None:
    parsed = parse_moment(moment.isoformat(), NOW)

    assert parsed == moment
    assert parsed.tzinfo == UTC


# --- values that cannot be what the key means ----------------------------------------------------


@pytest.mark.parametrize("pasted", ["sk-live-123", "sk-proj-AbC123xyz", "my key", "1ABC"])
def test_a_key_pasted_as_api_key_env_is_refused_without_echoing_it(
    tmp_path: Path, pasted: str
) -> None:
    path = write(tmp_path, f'[[sources]]\nname = "openai"\napi_key_env = "{pasted}"\n')

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: sources[0].api_key_env: must name an environment variable")
    assert pasted not in message


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[schedule]\nevery = '1h'\ncron = '0 * * * *'\n", "schedule"),
        ('[[sources]]\nname = "a"\nevery = "1h"\ncron = "0 * * * *"\n', "sources[0]"),
    ],
)
def test_every_and_cron_together_are_refused(tmp_path: Path, toml: str, key: str) -> None:
    path = write(tmp_path, toml)

    with pytest.raises(ConfigError) as caught:
        load_file(path)

    assert str(caught.value) == (
        f"{path}: {key}: every and cron are both set; keep one (cron would be ignored)"
    )
