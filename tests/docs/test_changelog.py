"""The schema is a public interface: every migration is listed in CHANGELOG.md."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_every_migration_is_in_the_changelog() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    versions = ROOT / "migrations" / "versions"
    revisions = sorted(path.name[:4] for path in versions.glob("[0-9]*.py"))
    assert revisions, "no migrations found"
    assert [rev for rev in revisions if f"**{rev}**" not in changelog] == []
