"""Together AI: ``GET /v1/models`` (Bearer) answers a bare JSON array, not paged.

The host is the spec's server, ``https://api.together.ai/v1`` (togethercomputer/openapi
``openapi.yaml`` @ 090263aa, ``ModelInfoList``).

Each model has ``display_name``, ``organization`` (the model's maker, stored as its owner),
``context_length`` and ``created``. No lifecycle field, and no retrieve endpoint for one
id, so the list is believed.
"""

from __future__ import annotations

from syncer.providers.profile import Fields, Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="together",
    default_base_url="https://api.together.ai/v1",
    key_env="TOGETHER_API_KEY",
    items=None,
    fields=Fields(
        owned_by="organization",
        display_name="display_name",
        context_length=("context_length",),
    ),
    retrieve=False,
    litellm_providers=("together_ai",),
)
