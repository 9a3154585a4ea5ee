"""``[[imports]]`` in the configuration: what is accepted, and the one-line errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syncer.config.load import load_settings
from syncer.config.model import Settings
from syncer.errors import ConfigError

LITELLM = (
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
)


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "syncer.toml"
    path.write_text(text)
    return load_settings(config_file=path, env={})


def test_imports_take_a_url_or_a_path_with_the_format_read_from_the_name(
    tmp_path: Path,
) -> None:
    settings = _load(
        tmp_path,
        (
            '[sync]\nmax_response_size = "64MB"\n\n'
            f'[[imports]]\nurl = "{LITELLM}"\n\n'
            '[[imports]]\npath = "dates/ours.csv"\nevery = "6h"\n\n'
            '[[imports]]\nurl = "http://localhost:8000/latest"\nformat = "toml"\n'
            'max_response_size = "1MB"\n'
        ),
    )

    specs = settings.imports
    assert [(s.origin, s.format, s.every) for s in specs] == [
        (LITELLM, "litellm", timedelta(days=1)),
        (str(tmp_path / "dates" / "ours.csv"), "csv", timedelta(hours=6)),
        ("http://localhost:8000/latest", "toml", timedelta(days=1)),
    ]
    assert [s.max_response_size for s in specs] == [64 << 20, 64 << 20, 1 << 20]


def test_a_token_in_an_import_url_is_a_secret_and_not_in_the_origin(tmp_path: Path) -> None:
    settings = _load(tmp_path, f'[[imports]]\nurl = "{LITELLM}?token=ghp-0123456789"\n')

    assert "ghp-0123456789" in settings.secrets
    assert settings.imports[0].origin == f"{LITELLM}?token=***"
    assert "ghp" not in repr(settings)


@pytest.mark.parametrize(
    ("table", "error"),
    [
        (
            'url = "http://example.com/d.csv"',
            "imports[0].url: 'http://example.com/d.csv' is plain http to another machine: "
            "use https (http only to localhost)",
        ),
        (
            'url = "https://example.com/d.csv"\npath = "d.csv"',
            "imports[0].url: give one of url and path",
        ),
        ('every = "1d"', "imports[0].url: give one of url and path"),
        (
            'url = "https://example.com/latest"',
            "imports[0].format: required: 'https://example.com/latest' does not end in .json, .csv "
            "or .toml (one of: litellm, csv, toml)",
        ),
        (
            'path = "d.csv"\nformat = "yaml"',
            "imports[0].format: unknown format 'yaml'; one of: litellm, csv, toml",
        ),
        ('path = "d.csv"\nevery = "often"', "imports[0].every: "),
        ('path = "d.csv"\nname = "x"', "imports[0].name: unknown key"),
    ],
)
def test_a_bad_import_table_is_a_one_line_error_naming_the_key(
    tmp_path: Path, table: str, error: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, f"[[imports]]\n{table}\n")

    assert str(caught.value).startswith(f"{tmp_path / 'syncer.toml'}: {error}")


def test_the_same_file_imported_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"imports\[1\]: .* is imported twice"):
        _load(tmp_path, f'[[imports]]\nurl = "{LITELLM}"\n\n[[imports]]\nurl = "{LITELLM}"\n')
