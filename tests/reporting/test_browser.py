"""The HTML report in a real browser: headless Chromium, driven by Playwright.

Debian's ``chromium`` is used as it is (``executable_path``): nothing is downloaded. Without
it these tests skip, unless SYNCER_REQUIRE_BROWSER=1 (CI), where they fail instead. Each
test keeps a screenshot in ``test-artifacts/`` (or $SYNCER_TEST_ARTIFACTS).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from syncer.reporting.html import report_html
from syncer.reporting.timeline import snapshot_session
from tests.conftest import FakeProvider
from tests.receivers import Clock
from tests.reporting.report_history import record_history

CHROMIUM = Path(os.environ.get("SYNCER_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get(
    "SYNCER_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"
))


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
        "a", "b", "c", "d",
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
        "June 2025", "July 2025", "October 2025",
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
