"""Getting a file of dates: over HTTP(S) with the provider client's limits, or from disk.

A URL is fetched by ``providers.http.Client`` (its connect and read timeouts and retries
from ``[http]``, the import's ``deadline`` and ``max_response_size`` as a source's), so an
import cannot hang ``syncer run`` or fill its memory, and any secret the URL carries is
masked in every error. No key is sent: a document profile has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from syncer.config.model import HTTPSettings, ImportSpec, Source
from syncer.errors import ConfigError, ResponseTooLargeError
from syncer.providers.profile import Profile

__all__ = ["DOCUMENT", "Document", "fetch"]

#: A document, not a provider's list: no key, any content type.
DOCUMENT = Profile(
    kind="document",
    default_base_url=None,
    key_env=None,
    auth_header="",
    headers={"Accept": "*/*"},
)


@dataclass(frozen=True)
class Document:
    """What a fetch got: the body, or None when the server said 304 Not Modified."""

    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None


def fetch(
    spec: ImportSpec,
    http: HTTPSettings,
    headers: Mapping[str, str],
    secrets: Iterable[str] = (),
) -> Document:
    """The document ``spec`` names; ``headers`` make an HTTP fetch conditional.

    Raises ``ProviderError`` (its subclasses for a status, a timeout, a body too large),
    or ``ConfigError`` for a path that cannot be read.
    """
    if spec.url is None:
        return _read(spec)
    from syncer.providers.http import Client

    source = Source(
        name="import",
        base_url=spec.url,
        deadline=spec.deadline,
        max_response_size=spec.max_response_size,
    )
    with Client(source.endpoint(), http, profile=DOCUMENT, secrets=secrets) as client:
        response = client.fetch(spec.url, headers)
    if response is None:
        return Document(None)
    return Document(
        response.content, response.headers.get("ETag"), response.headers.get("Last-Modified")
    )


def _read(spec: ImportSpec) -> Document:
    path = Path(str(spec.path))
    try:
        size = path.stat().st_size
        if size > spec.max_response_size:
            raise ResponseTooLargeError(
                f"{path}: the file is {size} bytes, more than {spec.max_response_size} "
                "(max_response_size); not read"
            )
        return Document(path.read_bytes())
    except OSError as exc:  # the file the configuration names is not there to read
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
