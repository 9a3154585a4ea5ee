"""The named paginators: pure functions from one page to the way to the next."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.errors import PayloadError
from syncer.providers.paging import openai_cursor


def page(*ids: str, **extra: Any) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": i, "object": "model"} for i in ids], **extra}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (page("a"), None),
        (page("a", has_more=False, last_id="a"), None),
        (page("a", has_more=False, next="http://x/2"), None),
        (page("a", "b", has_more=True), {"after": "b"}),
        (page("a", "b", has_more=True, last_id="z"), {"after": "z"}),
        (page("a", next_page="https://x/v1/models?p=2"), "https://x/v1/models?p=2"),
        (page("a", has_more=True, next="/v1/models?p=2"), "/v1/models?p=2"),
        (page("a", next_page_token="t"), {"page_token": "t"}),
        (page("a", nextPageToken="t", next=None), {"page_token": "t"}),
        (page("a", next=None, next_page_token=""), None),
    ],
)
def test_openai_cursor_rules(body, expected):
    assert openai_cursor(body) == expected


@pytest.mark.parametrize(
    "body", [{"has_more": True, "data": []}, {"has_more": True, "data": [{}]}, {"has_more": "yes"}]
)
def test_openai_cursor_refuses_has_more_without_a_way_forward(body):
    with pytest.raises(PayloadError):
        openai_cursor(body)
