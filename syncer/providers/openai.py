"""OpenAI, and the default for any OpenAI-compatible server: the first provider profile.

``GET /v1/models`` answers ``{"object": "list", "data": [...]}`` with Bearer auth, optional
``OpenAI-Organization``/``OpenAI-Project`` headers, and an optional ``shutdown_date`` per
model (``Model`` in openai/openai-openapi ``openapi.yaml`` @ f85dbe22; older SDK builds do
not declare it). OpenAI itself does not page the list; the compatible servers
that do page in one of several ways, which ``paging.openai_cursor`` follows. The environment
names are the official SDK's, so a machine set up for the SDK needs nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from syncer.providers.paging import openai_cursor
from syncer.providers.profile import Family, Fields, FineTunes, Profile

__all__ = [
    "DEFAULT_BASE_URL",
    "PROFILE",
    "PROVIDER_OWNERS",
    "SHUTDOWN_FIELDS",
    "fine_tune_family",
    "is_fine_tuned",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Where OpenAI-compatible lists announce a shutdown: OpenAI's field, then OpenRouter's, which
#: many sources configured before kinds existed read through this profile.
SHUTDOWN_FIELDS = ("shutdown_date", "expiration_date")
#: Owners of the provider's own models; ``openai-*`` (``openai-internal``, ``openai-dev``) too.
PROVIDER_OWNERS = frozenset({"openai", "system"})
# A legacy fine-tune ends in its creation time: "curie:ft-acme:support-2022-02-15-04-21-04".
_LEGACY_DATE = re.compile(r"-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$")
# OpenAI echoes part of a wrong key in a 401 ("Incorrect API key provided: sk-ab***yz").
_KEY_LIKE = re.compile(r"sk-[\w*-]+(?:\.+[\w*-]+)*")


def is_fine_tuned(model_id: str, raw: Mapping[str, Any] | None = None) -> bool:
    """True for fine-tunes: ``ft:base:org:suffix:id`` and the legacy ``base:ft-org-date``."""
    return model_id.startswith("ft:") or ":ft-" in model_id


def fine_tune_family(model_id: str) -> Family | None:
    """The (base model, suffix) of a fine-tune id, or None when the id has no known shape.

    ``ft:{base}:{org}:{suffix}:{id}`` (the suffix may be empty or hold colons), and the
    legacy ``{base}:ft-{org}:{suffix}-{date}`` and ``{base}:ft-{org}-{date}``.
    """
    if model_id.startswith("ft:"):
        parts = model_id.split(":")
        if len(parts) < 5 or not parts[1] or not parts[2] or not parts[-1]:
            return None
        return Family(parts[1], ":".join(parts[3:-1]))
    base, marker, rest = model_id.partition(":ft-")
    if not marker or not base or not rest:
        return None
    org, colon, tail = rest.partition(":")
    if not org:
        return None
    return Family(base, _LEGACY_DATE.sub("", tail) if colon else "")


PROFILE = Profile(
    kind="openai",
    default_base_url=DEFAULT_BASE_URL,
    key_env="OPENAI_API_KEY",
    header_options={"organization": "OpenAI-Organization", "project": "OpenAI-Project"},
    env_headers={"OPENAI_ORG_ID": "OpenAI-Organization", "OPENAI_PROJECT_ID": "OpenAI-Project"},
    base_url_env="OPENAI_BASE_URL",
    paginator=openai_cursor,
    fields=Fields(shutdown=SHUTDOWN_FIELDS),
    fine_tunes=FineTunes(
        is_fine_tuned=is_fine_tuned,
        family=fine_tune_family,
        owners=PROVIDER_OWNERS,
        owner_prefixes=("openai-",),
        deletable=True,
        part_separator=":",
    ),
    key_pattern=_KEY_LIKE,
    key_mask="sk-***",
    litellm_providers=("openai",),
)
