"""Google Gemini, native API: ``GET /v1beta/models`` with the ``x-goog-api-key`` header.

The answer is ``{"models": [...], "nextPageToken"}``: ``pageSize=1000``, then ``pageToken``
until no token comes (protobuf JSON leaves an empty list out entirely). A model's ``name`` is
``models/{id}``; the id is stored without the prefix, which is also what ``GET
/v1beta/models/{id}`` takes. No ``created``, no owner, no lifecycle field. A bad key is a
**400** whose google.rpc body says ``API_KEY_INVALID``.
"""

from __future__ import annotations

import re
from typing import Any

from syncer.providers.paging import page_token
from syncer.providers.profile import ErrorInfo, Fields, Profile, read_error

__all__ = ["PROFILE", "read_google_error"]

#: google.rpc ``ErrorInfo.reason`` values that mean the key itself was refused.
KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"})


def read_google_error(body: Any) -> ErrorInfo | None:
    """A google.rpc status: its message, the ``ErrorInfo`` reason as the code, the status."""
    info = read_error(body)
    error = (body[0] if isinstance(body, list) and body else body) or {}
    error = error.get("error") if isinstance(error, dict) else None
    if info is None or not isinstance(error, dict):
        return info
    details = error.get("details")
    reasons = [
        d.get("reason") for d in details if isinstance(d, dict) and isinstance(d.get("reason"), str)
    ] if isinstance(details, list) else []
    status = error.get("status") if isinstance(error.get("status"), str) else None
    code = reasons[0] if reasons else status
    auth = bool(KEY_REASONS & set(reasons)) or status == "UNAUTHENTICATED"
    return ErrorInfo(info.message, code, status, auth)


PROFILE = Profile(
    kind="gemini",
    default_base_url="https://generativelanguage.googleapis.com/v1beta",
    key_env="GEMINI_API_KEY",
    auth_header="x-goog-api-key",
    auth_scheme="",
    list_query={"pageSize": "1000"},
    paginator=page_token("nextPageToken", "pageToken"),
    items="models",
    items_optional=True,
    fields=Fields(
        id="name", id_prefix="models/", created=None, owned_by=None, object=None,
        display_name="displayName", context_length=("inputTokenLimit",),
    ),
    read_error=read_google_error,
    key_pattern=re.compile(r"AIza[\w*-]{8,}"),
    key_mask="AIza***",
    litellm_providers=("gemini",),
)
