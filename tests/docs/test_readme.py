"""The README is the front door: its one complete syncer.toml loads as written, and every page
it sends a reader to exists."""

from __future__ import annotations

import re
from pathlib import Path

from syncer.config.load import load_settings

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"


def test_the_readme_configuration_loads_as_written_with_every_source_and_rule(
    tmp_path: Path,
) -> None:
    section = README.read_text().split("\n## Configuration\n", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    config = tmp_path / "syncer.toml"
    config.write_text(block.group(1))
    config.chmod(0o600)
    env = {
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
        "ALERT_WEBHOOK_URL": "https://example.com/hook",
        "SYNCER_HTTP_TOKEN": "t",
    }

    settings = load_settings(config_file=config, env=env)

    assert [(s.name, s.kind) for s in settings.sources] == [
        ("openai", "openai"),
        ("claude", "anthropic"),
        ("azure-eu", "azure"),
        ("mistral", "mistral"),
        ("vllm", "vllm"),
    ]
    assert [rule.name for rule in settings.alerts] == ["monday", "page", "health"]
    assert settings.retention["mistral"].include == ("ft:*:acme:*",)
    assert [(spec.format, spec.every.days) for spec in settings.imports] == [("litellm", 1)]


def slug(heading: str) -> str:
    """A heading's anchor as GitHub and the docs site make it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_page_and_section_the_readme_links_to_exists() -> None:
    links = re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)(?:#([\w-]+))?\)", README.read_text())
    pages = {page for page, _ in links}
    assert {"docs/providers.md", "docs/cli.md", "docs/schema.md", "CONTRIBUTING.md"} <= pages
    assert [page for page in pages if not (ROOT / page).is_file()] == []
    anchors = {
        page: {
            slug(line.lstrip("#"))
            for line in (ROOT / page).read_text().splitlines()
            if re.match(r"#+ ", line)
        }
        for page in pages
    }
    assert [
        f"{page}#{anchor}" for page, anchor in links if anchor and anchor not in anchors[page]
    ] == []
