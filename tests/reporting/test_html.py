"""`syncer report html`: one self-contained file from a known history, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from syncer.reporting.history_queries import snapshot_session
from syncer.reporting.html import report_html
from tests.fakes import FakeProvider
from tests.receivers import Clock
from tests.reporting.report_history import STEADY, KnownHistory, record_history


@pytest.fixture
def history(engine: Engine, provider: FakeProvider, clock: Clock) -> KnownHistory:
    return record_history(engine, provider, clock)


def rows(page: str) -> dict[str, str]:
    """Each timeline row's markup by model id."""
    found = re.findall(
        r'<div class="row" data-source="openai" data-model="([^"]+)">(.*?)</div>', page
    )
    return dict(found)


def render(engine: Engine, history: KnownHistory, **options: object) -> str:
    with snapshot_session(engine) as session:
        return report_html(session, history.now, **options)  # type: ignore[arg-type]


def test_the_report_shows_each_model_that_did_something_and_collapses_the_rest(
    engine: Engine, history: KnownHistory
) -> None:
    page = render(engine, history)
    timeline = rows(page)
    assert sorted(timeline) == ["a", "b", "c", "d"]
    assert timeline["b"].count('class="bar listed"') == 2
    assert 'class="mark vanished"' in timeline["b"] and 'class="mark reappeared"' in timeline["b"]
    assert timeline["c"].count('class="bar listed"') == 1 and "mark vanished" in timeline["c"]
    assert 'class="mark changed"' in timeline["a"]
    assert "owned_by: &#34;openai&#34; -&gt; &#34;acme&#34;" in timeline["a"]
    assert 'class="bar ahead"' in timeline["d"] and 'class="mark shutdown"' in timeline["d"]
    assert "6 models, no change" in page
    assert ", ".join(["e", *STEADY]) in page


def test_the_report_summarises_each_source_and_lists_shutdowns_and_changes(
    engine: Engine, history: KnownHistory
) -> None:
    page = render(engine, history)
    assert '<dd class="present">9 models</dd>' in page
    assert "10 added, 2 vanished,\n1 reappeared, 2 changed" in page
    assert f'<span class="status-ok">ok</span> {history.now:%Y-%m-%d %H:%M} UTC' in page
    month = history.shutdown.strftime("%B %Y")
    assert f'<h3 class="month">{month}</h3>' in page
    shutdown_row = re.search(r'<tr class="shutdown" data-model="d">(.*?)</tr>', page, re.S)
    assert shutdown_row is not None
    assert f"<td>{history.shutdown:%Y-%m-%d}</td>" in shutdown_row[1]
    assert '<td class="num soon">25</td>' in shutdown_row[1].replace("\n", "")
    assert '<td class="origin">provider</td>' in shutdown_row[1]
    feed = re.findall(r'<td class="model">([^<]+)</td><td class="kind kind-(\w+)">', page)
    # d's date came with a change of its listed field: a shutdown_changed event beside it.
    newest = [("c", "vanished"), ("d", "shutdown_changed"), ("d", "changed"), ("b", "reappeared")]
    assert feed[:4] == newest
    assert len(feed) == 16


def test_the_report_is_self_contained(engine: Engine, history: KnownHistory) -> None:
    page = render(engine, history)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page


def test_since_narrows_the_window_to_its_events(engine: Engine, history: KnownHistory) -> None:
    page = render(engine, history, since=history.start + timedelta(days=25))
    feed = re.findall(r'<td class="kind kind-(\w+)">', page)
    assert feed == ["vanished", "shutdown_changed", "changed", "reappeared"]
    assert sorted(rows(page)) == ["b", "c", "d"]
    assert "7 models, no change" in page


def test_an_empty_database_renders_a_page_that_says_so(engine: Engine, clock: Clock) -> None:
    with snapshot_session(engine) as session:
        page = report_html(session, clock.now)
    assert "Nothing synced yet" in page and "No upcoming shutdown is known." in page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_report_html_writes_a_file_or_stdout_and_says_where(
    invoke, history: KnownHistory, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    result = invoke("report", "html", "-o", str(target), "--source", "openai")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"wrote {target} (0.0 MB)")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    piped = invoke("report", "html", "-o", "-")
    assert piped.exit_code == 0 and piped.stdout.startswith("<!DOCTYPE html>")
    unwritable = invoke("report", "html", "-o", str(tmp_path / "missing" / "r.html"))
    assert unwritable.exit_code == 1
    assert unwritable.stderr.startswith("Error: ") and "cannot write" in unwritable.stderr
    bad = invoke("report", "html", "--since", "last week")
    assert bad.exit_code == 2 and "--since" in bad.stderr


def test_report_html_replaces_its_target_in_one_step_and_never_writes_through_a_symlink(
    invoke, history: KnownHistory, tmp_path: Path
) -> None:
    # Issue 21 item 12: a link in a shared directory aimed the write at another file, and a
    # reader of the old report could see half of the new one.
    victim = tmp_path / "victim.txt"
    victim.write_text("theirs")
    link = tmp_path / "linked.html"
    link.symlink_to(victim)
    target = tmp_path / "report.html"
    target.write_text("old report")
    target.chmod(0o640)

    with target.open() as reader:
        assert invoke("report", "html", "-o", str(link)).exit_code == 0
        assert invoke("report", "html", "-o", str(target)).exit_code == 0
        assert reader.read() == "old report"  # the old file was replaced, not rewritten

    assert victim.read_text() == "theirs"
    assert not link.is_symlink() and link.read_text().startswith("<!DOCTYPE html>")
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    unwritable = invoke("report", "html", "-o", str(tmp_path))
    assert unwritable.exit_code != 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_canned_reports_still_answer_by_name_beside_html(invoke, history: KnownHistory) -> None:
    assert invoke("report", "owners").exit_code == 0
    assert invoke("report", "query", "owners").stdout == invoke("report", "owners").stdout
    listed = invoke("report", "--help").stdout
    assert "html" in listed and "query" in listed


def test_one_model_is_one_model_not_one_models() -> None:
    from syncer.reporting.history import Interval
    from syncer.reporting.html import render_report
    from syncer.reporting.overview import build_overview

    now = datetime(2026, 6, 1, tzinfo=UTC)
    start = now - timedelta(days=3)
    overview = build_overview(
        now=now,
        since=None,
        counts={},
        feed=[],
        feed_total=0,
        runs=[],
        shutdowns=[],
        intervals=[
            Interval("openai", "m1", 1, start, None, "added", None),
            Interval("openai", "m2", 1, start + timedelta(days=1), None, "added", None),
        ],
        marks=[],
    )
    page = render_report(overview)
    assert "1 model with something to show, 1 model listed throughout" in page
    assert "1 model, no change" in page
    assert "1 models" not in page
