"""Reading an inventory snapshot from a file or a URL (the shell of ``inventory``).

A URL is fetched over HTTPS (plain HTTP only to this machine, for tests and a local
``syncer run``), with a timeout and a size cap; whatever goes wrong is an
``InventoryError`` (exit 2) that names the file or URL, never a half-read inventory. A
``syncer run`` whose server wants a token (``[http] token_env``) is sent it as a bearer
token: the scan reads it from its own settings, as the server does; ``requests`` drops it
on a redirect to another host.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import orjson

from syncer.providers.auth import is_loopback
from syncer.scan.inventory import Inventory, InventoryError, from_document

__all__ = ["MAX_DOCUMENT_BYTES", "TIMEOUT", "is_url", "load_inventory"]

MAX_DOCUMENT_BYTES = 256 << 20
TIMEOUT = 30.0


def is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


def _shown(url: str) -> str:
    """The URL without credentials or query, which may hold a token: for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _fetch(url: str, token: str | None, token_env: str | None) -> bytes:
    import requests

    parts = urlsplit(url)
    shown = _shown(url)
    if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
        raise InventoryError(f"{shown}: an inventory URL must be https:// (http only to localhost)")
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    try:
        with requests.get(url, timeout=TIMEOUT, stream=True, headers=headers) as response:
            if response.status_code == 401:
                raise InventoryError(f"{shown}: HTTP 401: {_refused(token, token_env)}")
            if response.status_code != 200:
                raise InventoryError(f"{shown}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(1 << 16):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise InventoryError(f"{shown}: larger than {MAX_DOCUMENT_BYTES >> 20} MiB")
            return bytes(body)
    except requests.RequestException as exc:
        raise InventoryError(f"{shown}: cannot fetch it: {type(exc).__name__}") from None


def _refused(token: str | None, token_env: str | None) -> str:
    """Why a 401, and what to do: never the token itself."""
    if token is not None:
        return f"the server refused the token in {token_env}"
    if token_env is not None:
        return f"the server wants a token: [http] token_env names {token_env}, which is not set"
    return (
        "the server wants a token: set [http] token_env to the variable that holds it, "
        "as the server's configuration does"
    )


def load_inventory(where: str, token: str | None = None, token_env: str | None = None) -> Inventory:
    """The inventory in the file or at the URL ``where``, sent ``token`` (read from the
    variable ``token_env``) as a bearer token."""
    if is_url(where):
        data = _fetch(where, token, token_env)
        where = _shown(where)
    else:
        try:
            data = Path(where).read_bytes()
        except OSError as exc:
            raise InventoryError(f"{where}: cannot read it: {exc.strerror}") from None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InventoryError(f"{where}: not valid JSON: {exc}") from None
    return from_document(document, where)
