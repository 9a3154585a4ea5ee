"""Named paginators: pure functions from one list page to the way to the next, or None.

A cursor is either query parameters for the list endpoint (``{"after_id": "x"}``) or a URL,
absolute or relative to the base URL. The client follows it, refusing another origin, a
cursor it has seen, and more than ``MAX_PAGES`` pages; a paginator only reads the page. Every
paginator refuses a ``has_more`` that is not a boolean, or a ``has_more: true`` it cannot
follow, since reading either as the end would silently truncate the listing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from syncer.errors import PayloadError
from syncer.jsontext import document
from syncer.words import snippet

__all__ = [
    "Cursor",
    "Paginator",
    "after_id",
    "next_link",
    "openai_cursor",
    "page_token",
    "single",
]

Cursor = dict[str, str] | str
Paginator = Callable[[Any], Cursor | None]


def _has_more(body: Any) -> bool | None:
    has_more = body.get("has_more") if isinstance(body, Mapping) else None
    if has_more is not None and not isinstance(has_more, bool):
        raise PayloadError(f"has_more must be true or false, got {snippet(repr(has_more), 40)}")
    return has_more


def single(body: Any) -> Cursor | None:
    """A kind whose list is documented as one response: there is no next page."""
    if _has_more(body):
        raise PayloadError("has_more is true, but this kind's list is documented as one page")
    return None


def openai_cursor(body: Any) -> Cursor | None:
    """OpenAI-compatible servers, which page (if at all) in one of several ways.

    An explicit ``has_more: false`` is final; otherwise a next URL (``next_page``, ``next``)
    wins over a page token (``next_page_token``, ``nextPageToken``), which wins over OpenAI's
    ``after`` cursor: the ``last_id``, or the id of the last item.
    """
    has_more = _has_more(body)
    if has_more is False or not isinstance(body, Mapping):
        return None
    for key in ("next_page", "next"):
        if isinstance(body.get(key), str) and body[key]:
            return str(body[key])
    for key in ("next_page_token", "nextPageToken"):
        if isinstance(body.get(key), str) and body[key]:
            return {"page_token": str(body[key])}
    if not has_more:
        return None
    last_id = body.get("last_id")
    data = body.get("data")
    last = document(data[-1]) if last_id is None and isinstance(data, list) and data else None
    if isinstance(last, Mapping):
        last_id = last.get("id")
    if isinstance(last_id, str) and last_id:
        return {"after": last_id}
    raise PayloadError("has_more is true but there is no last_id and the last item has no id")


def after_id(body: Any) -> Cursor | None:
    """Anthropic: while ``has_more`` is true, ask for the models ``after_id=<last_id>``."""
    if not _has_more(body):
        return None
    last_id = body.get("last_id")
    if isinstance(last_id, str) and last_id:
        return {"after_id": last_id}
    raise PayloadError("has_more is true but there is no last_id")


def page_token(key: str, param: str) -> Paginator:
    """An opaque token in ``key`` sent back as ``param``; no token (or an empty one) ends it."""

    def paginate(body: Any) -> Cursor | None:
        _has_more(body)
        token = body.get(key) if isinstance(body, Mapping) else None
        if token is None or token == "":
            return None
        if not isinstance(token, str):
            raise PayloadError(f"{key} must be a string, got {snippet(repr(token), 40)}")
        return {param: token}

    paginate.__name__ = f"page_token_{key}"
    return paginate


def next_link(body: Any) -> Cursor | None:
    """A ``links.next`` URL when present (OpenRouter's newer lists); none: the last page."""
    _has_more(body)
    links = body.get("links") if isinstance(body, Mapping) else None
    following = links.get("next") if isinstance(links, Mapping) else None
    if following is None or following == "":
        return None
    if not isinstance(following, str):
        raise PayloadError(f"links.next must be a URL, got {snippet(repr(following), 40)}")
    return following
