"""Google Gemini, native API: ``GET /v1beta/models`` and ``GET /v1beta/tunedModels``.

The key goes in the ``x-goog-api-key`` header, read as the official SDK reads it: from
``GOOGLE_API_KEY``, else ``GEMINI_API_KEY`` (googleapis/python-genai
``google/genai/_api_client.py`` @ 79f0d746, ``get_env_api_key``). Both lists answer
``{"models" | "tunedModels": [...], "nextPageToken"}``: ``pageSize=1000``, then
``pageToken`` until no token comes (protobuf JSON leaves an empty list out entirely). A
base model's ``name`` is ``models/{id}``; the id is stored without the prefix, which is
also what ``GET /v1beta/models/{id}`` takes. A tuned model (the user's own, the ones most
worth tracking) keeps its whole name, ``tunedModels/{id}``, is a fine-tune, and is not
asked about by ``GET /v1beta/models/{id}``, so its vanish is confirmed by the list alone;
its ``createTime``, ``baseModel`` and ``state`` stay in ``raw``. No ``created``, no owner,
no lifecycle field. A bad key is a **400** whose google.rpc body says ``API_KEY_INVALID``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from syncer.providers.paging import page_token
from syncer.providers.profile import ErrorInfo, Fields, FineTunes, Profile, read_error

__all__ = ["PROFILE", "TUNED", "is_base_model", "is_fine_tuned", "read_google_error"]

#: How a tuned model's id (its ``name``) starts.
TUNED = "tunedModels/"


def is_fine_tuned(model_id: str, raw: Mapping[str, Any]) -> bool:
    """A tuned model: listed by ``tunedModels``, under its whole name."""
    return model_id.startswith(TUNED)


def is_base_model(model_id: str) -> bool:
    """An id ``GET /v1beta/models/{id}`` can answer for: not a tuned model's."""
    return not model_id.startswith(TUNED)


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
    reasons = (
        [
            d.get("reason")
            for d in details
            if isinstance(d, dict) and isinstance(d.get("reason"), str)
        ]
        if isinstance(details, list)
        else []
    )
    status = error.get("status") if isinstance(error.get("status"), str) else None
    code = reasons[0] if reasons else status
    auth = bool(KEY_REASONS & set(reasons)) or status == "UNAUTHENTICATED"
    return ErrorInfo(info.message, code, status, auth)


PROFILE = Profile(
    kind="gemini",
    default_base_url="https://generativelanguage.googleapis.com/v1beta",
    key_env="GOOGLE_API_KEY",
    key_env_fallbacks=("GEMINI_API_KEY",),
    auth_header="x-goog-api-key",
    auth_scheme="",
    list_query={"pageSize": "1000"},
    paginator=page_token("nextPageToken", "pageToken"),
    items="models",
    items_optional=True,
    more_lists=(("/tunedModels", "tunedModels"),),
    fields=Fields(
        id="name",
        id_prefix="models/",
        created=None,
        owned_by=None,
        object=None,
        display_name="displayName",
        context_length=("inputTokenLimit",),
    ),
    retrievable=is_base_model,
    fine_tunes=FineTunes(is_fine_tuned=is_fine_tuned),
    read_error=read_google_error,
    key_pattern=re.compile(r"AIza[\w*-]{8,}"),
    key_mask="AIza***",
    litellm_providers=("gemini",),
)
