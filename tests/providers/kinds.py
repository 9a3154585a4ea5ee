"""Helpers for the per-kind tests: a real client of one kind against a loopback server."""

from __future__ import annotations

import json
from typing import Any

from pytest_httpserver import HTTPServer

from syncer.config.model import HTTPSettings, Source
from syncer.providers.http import Client
from syncer.sync.parse import ModelRecord, ParsedListing, parse_listing

FAST = HTTPSettings(
    connect_timeout=2.0, read_timeout=2.0, max_retries=0, backoff_base=0.01, backoff_max=0.05
)


def client(
    server: HTTPServer, kind: str, prefix: str = "/v1", key: str | None = None, **fields: Any
) -> Client:
    """A client of ``kind`` whose base URL is ``prefix`` on the server."""
    source = Source(name=kind, base_url=server.url_for(prefix), api_key=key, kind=kind, **fields)
    return Client(source.endpoint(), FAST)


def listed(made: Client) -> ParsedListing:
    """Every page the client fetches, parsed as its profile says."""
    with made:
        return parse_listing(made.list_pages().pages, None, made.profile)


def by_id(listing: ParsedListing) -> dict[str, ModelRecord]:
    return {record.model_id: record for record in listing.records}


def body(data: Any) -> str:
    return json.dumps(data)
