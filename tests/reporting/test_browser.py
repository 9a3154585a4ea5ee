"""The HTML report in a real browser: headless Chromium, driven by Playwright.

Debian's ``chromium`` is used as it is (``executable_path``): nothing is downloaded. Without
it these tests skip, unless SYNCER_REQUIRE_BROWSER=1 (CI), where they fail instead. Each
test keeps a screenshot in ``test-artifacts/`` (or $SYNCER_TEST_ARTIFACTS).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from syncer.reporting.history_queries import snapshot_session
from syncer.reporting.html import report_html
from tests.fakes import FakeProvider
from tests.receivers import Clock
from tests.reporting.report_history import record_history

CHROMIUM = Path(os.environ.get("SYNCER_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(
    os.environ.get("SYNCER_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    required = os.environ.get("SYNCER_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("SYNCER_REQUIRE_BROWSER=1 but Playwright is not installed")
        pytest.skip("Playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if required:
            pytest.fail(f"SYNCER_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page that records console errors and every request it makes."""
    opened = browser.new_page(viewport={"width": 1400, "height": 1000})
    opened.errors, opened.requested = [], []
    opened.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
    opened.on("pageerror", lambda exc: opened.errors.append(str(exc)))
    opened.on("request", lambda r: opened.requested.append(r.url))
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    opened.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_report_shows_rows_bars_calendar_and_feed_in_a_browser(
    engine: Engine, provider: FakeProvider, clock: Clock, page: Any, tmp_path: Path
) -> None:
    history = record_history(engine, provider, clock)
    with snapshot_session(engine) as session:
        document = report_html(session, history.now)
    target = tmp_path / "report.html"
    target.write_text(document, encoding="utf-8")
    page.goto(target.as_uri())

    rows = page.locator(".timeline .row[data-model]")
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.model)")) == [
        "a",
        "b",
        "c",
        "d",
    ]
    b = page.locator('.row[data-model="b"]')
    assert b.locator(".bar.listed").count() == 2
    assert b.locator(".mark.vanished").count() == 1 and b.locator(".mark.reappeared").count() == 1
    box = b.locator(".bar.listed").first.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 4
    assert page.locator('.row[data-model="d"] .mark.shutdown').is_visible()
    assert page.locator(".steady-row").inner_text().startswith("6 models, no change")

    calendar = page.locator("#shutdowns tr.shutdown")
    assert calendar.count() == 1
    assert calendar.first.locator("td").all_inner_texts()[1:4] == ["d", "openai", "25"]
    feed = page.locator("#feed tr.event")
    assert feed.count() == 16  # 15 events, and the shutdown_changed beside d's change
    assert "owned_by" in page.locator("#feed tr.event", has_text="changed").last.inner_text()

    page.fill("#filter", "b")
    assert rows.evaluate_all("rows => rows.filter(r => !r.hidden).map(r => r.dataset.model)") == [
        "b",
    ]
    assert page.locator("#shown").inner_text() == "1 of 4 rows"
    page.fill("#filter", "")
    assert page.errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in page.requested)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_report_opens_without_errors(page: Any, tmp_path: Path, database_url: str) -> None:
    from syncer.demo import run_demo

    report = tmp_path / "demo.html"
    run_demo(database_url, report)
    page.goto(report.as_uri())
    assert page.locator(".timeline .row[data-model]").count() > 50
    assert page.locator("#shutdowns h3.month").all_inner_texts() == [
        "June 2025",
        "July 2025",
        "October 2025",
    ]
    assert page.errors == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_the_reports_own_script_runs_under_its_policy(
    engine: Engine, provider: FakeProvider, clock: Clock, page: Any, tmp_path: Path
) -> None:
    history = record_history(engine, provider, clock)
    with snapshot_session(engine) as session:
        document = report_html(session, history.now)
    scripts = re.search(r"script-src ([^;\"]*)", document)
    assert scripts is not None and scripts[1].startswith("'sha256-"), "no unsafe-inline script"
    injected = "<script>document.title = 'injected';</script></body>"
    target = tmp_path / "report.html"
    target.write_text(document.replace("</body>", injected), encoding="utf-8")
    page.goto(target.as_uri())

    assert page.title() != "injected"
    assert any("Content Security Policy" in error for error in page.errors), page.errors
    page.fill("#filter", "b")
    assert page.locator("#shown").inner_text() == "1 of 4 rows"


def _one_day(engine: Engine, provider: FakeProvider, clock: Clock) -> datetime:
    """A new install: a first sync, and a second 20 hours later with one change. Dates: one
    in 20 days, one in 200, one that passed two years ago (the model is still listed)."""
    from tests.fakes import model
    from tests.reporting.report_history import sync_at

    first = clock.now

    def listing() -> list[dict[str, Any]]:
        soon, later = first + timedelta(days=20), first + timedelta(days=200)
        return [
            *(model(name) for name in ("gpt-4o", "gpt-4o-mini", "o3", "whisper-1", "dall-e-3")),
            model("o1-mini", shutdown_date=soon.date().isoformat()),
            model("gpt-4-0613", shutdown_date=later.date().isoformat()),
            model(
                "gpt-3.5-turbo-0613", shutdown_date=(first - timedelta(days=730)).date().isoformat()
            ),
        ]

    provider.models = listing()
    sync_at(engine, provider, clock)
    clock.advance(hours=20)
    provider.models = [m if m["id"] != "o3" else {**m, "owned_by": "system"} for m in listing()]
    sync_at(engine, provider, clock)
    return clock.advance(hours=1)


def _inside(inner: Any, outer: Any) -> bool:
    a, b = inner.bounding_box(), outer.bounding_box()
    return bool(
        a and b and a["x"] >= b["x"] - 0.5 and a["x"] + a["width"] <= b["x"] + b["width"] + 0.5
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_one_day_database_shows_its_inventory_as_bars_and_every_date_inside_the_plot(
    engine: Engine, provider: FakeProvider, clock: Clock, page: Any, tmp_path: Path
) -> None:
    now = _one_day(engine, provider, clock)
    with snapshot_session(engine) as session:
        document = report_html(session, now)
    target = tmp_path / "report.html"
    target.write_text(document, encoding="utf-8")
    page.goto(target.as_uri())

    # The present inventory is bars a reader sees, not a sliver beside the dates ahead.
    steady = page.locator(".steady-row .bar.steady").bounding_box()
    assert steady is not None and steady["width"] > 250
    listed = page.locator('.row[data-model="o1-mini"] .bar.listed').bounding_box()
    assert listed is not None and listed["width"] > 200
    # Every mark, the past date's too, is inside the plot, and each kind is in the legend.
    marks = page.locator(".timeline .row[data-model] .mark")
    assert marks.count() >= 4
    for n in range(marks.count()):
        mark = marks.nth(n)
        assert _inside(mark, mark.locator("xpath=..")), mark.get_attribute("title")
    drawn = set(marks.evaluate_all("ms => ms.map(m => m.classList[1])"))
    drawn |= set(
        page.locator(".timeline .row .bar").evaluate_all("bs => bs.map(b => b.classList[1])")
    ) - {"steady"}
    legend = set(page.locator(".legend .key").evaluate_all("ks => ks.map(k => k.dataset.kind)"))
    assert drawn <= legend and {"shutdown", "changed", "listed", "ahead"} <= drawn
    past = page.locator('.row[data-model="gpt-3.5-turbo-0613"] .mark.shutdown')
    assert "shut down on" in (past.get_attribute("title") or "")
    # Labels of the short history and of the months ahead, in order, none off the axis.
    ticks = page.locator(".axis b").evaluate_all("bs => bs.map(b => b.style.left)")
    assert len(ticks) >= 4
    # The trend starts at the first sync: one day, drawn as a level line.
    assert page.locator(".source polyline").get_attribute("points") == "0.00,2.00 100.00,2.00"
    assert "8 models" in page.locator(".source .present").inner_text()
    assert page.errors == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_two_year_database_shows_its_history_and_the_dates_ahead_with_a_legend(
    page: Any, tmp_path: Path, database_url: str
) -> None:
    from syncer.demo import run_demo

    report = tmp_path / "demo.html"
    run_demo(database_url, report)
    page.goto(report.as_uri())
    marks = page.locator(".timeline .row[data-model] .mark")
    drawn = set(marks.evaluate_all("ms => ms.map(m => m.classList[1])"))
    legend = set(page.locator(".legend .key").evaluate_all("ks => ks.map(k => k.dataset.kind)"))
    assert drawn <= legend
    labels = page.locator(".axis b").all_inner_texts()
    assert "2024-01" in labels and labels[-1] == "now"
    assert page.errors == []
