"""Anthropic: ``GET /v1/models`` with ``x-api-key`` and ``anthropic-version: 2023-06-01``.

The list pages by id: up to ``limit=1000`` models, then ``after_id=<last_id>`` while
``has_more``. Each model has ``created_at`` in RFC 3339 (the epoch when the release date is
unknown), a ``display_name`` and, in newer lists, ``max_input_tokens``. There is no
lifecycle field: shutdown dates come from an imported file. Errors are
``{"type": "error", "error": {"type", "message"}}``.
"""

from __future__ import annotations

import re

from syncer.providers.paging import after_id
from syncer.providers.profile import Fields, Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="anthropic",
    default_base_url="https://api.anthropic.com/v1",
    key_env="ANTHROPIC_API_KEY",
    auth_header="x-api-key",
    auth_scheme="",
    headers={"anthropic-version": "2023-06-01"},
    list_query={"limit": "1000"},
    paginator=after_id,
    fields=Fields(
        created="created_at",
        created_as="rfc3339",
        owned_by=None,
        object="type",
        display_name="display_name",
        context_length=("max_input_tokens",),
    ),
    key_pattern=re.compile(r"sk-ant-[\w*-]+"),
    key_mask="sk-ant-***",
    litellm_providers=("anthropic",),
)
