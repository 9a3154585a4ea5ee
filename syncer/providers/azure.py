"""Azure OpenAI: a resource's models, through the v1 API (default) or the classic data plane.

``base_url`` is the resource's endpoint (``https://NAME.openai.azure.com``); there is no
default. The key goes in the ``api-key`` header. The v1 API (``/openai/v1/models``, since
August 2025) answers in OpenAI's shape with ``shutdown_date``. The classic one
(``/openai/models?api-version=2024-10-21``) lists what the resource can deploy, with
``created_at`` and ``deprecation.inference`` in unix seconds, and the resource's fine-tunes
(``model`` is their base, ``fine_tune`` their job) and ``lifecycle_status`` (``preview``,
``generally-available``), stored as the model's status. Neither documented API offers retention
a way to delete fine-tunes that was verified here, so Azure sources have no retention.
Errors come as OpenAI's envelope or as the gateway's ``{"statusCode", "message"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncer.providers.profile import Fields, FineTunes, Profile

__all__ = ["APIS", "CLASSIC", "PROFILE", "V1", "is_fine_tuned"]


def is_fine_tuned(model_id: str, raw: Mapping[str, Any]) -> bool:
    """A resource's fine-tune: it names its job (classic) or has an ``.ft-`` id."""
    return isinstance(raw.get("fine_tune"), str) or ".ft-" in model_id


_COMMON: dict[str, Any] = {
    "kind": "azure",
    "default_base_url": None,
    "key_env": "AZURE_OPENAI_API_KEY",
    "auth_header": "api-key",
    "auth_scheme": "",
    "version_param": "api-version",
    "fine_tunes": FineTunes(is_fine_tuned=is_fine_tuned),
    "litellm_providers": ("azure",),
}

V1 = Profile(
    **_COMMON,
    api="v1",
    list_path="/openai/v1/models",
    fields=Fields(shutdown=("shutdown_date",)),
)
CLASSIC = Profile(
    **_COMMON,
    api="classic",
    list_path="/openai/models",
    default_version="2024-10-21",
    fields=Fields(
        created="created_at",
        owned_by=None,
        shutdown=("deprecation.inference",),
        status="lifecycle_status",
    ),
)
APIS = {"v1": V1, "classic": CLASSIC}
PROFILE = V1
