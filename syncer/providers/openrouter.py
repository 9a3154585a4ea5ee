"""OpenRouter: the public catalogue ``GET /api/v1/models`` (a key is optional, Bearer).

``output_modalities`` "defaults to text": syncer asks for ``all``, so embedding, image and
audio models (and their ``expiration_date``) are listed too. The answer is ``{"data":
[...], "links": {"next"}, "total_count"}``; without ``offset`` and ``limit`` the full list
comes at once, and a ``links.next`` is followed with ``output_modalities=all`` kept on it
(the spec's own example link, ``/api/v1/models?offset=500&limit=500``, drops it). Each
model has ``created`` (when it was added to OpenRouter), ``name``, ``context_length`` and
``expiration_date`` (the route's shutdown, or null). Ids carry the vendor
(``openai/gpt-4o``). There is no retrieve endpoint for one id, so the list is believed.
"""

from __future__ import annotations

import re

from syncer.providers.paging import next_link
from syncer.providers.profile import Fields, Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="openrouter",
    default_base_url="https://openrouter.ai/api/v1",
    key_env="OPENROUTER_API_KEY",
    list_query={"output_modalities": "all"},
    paginator=next_link,
    fields=Fields(
        owned_by=None,
        object=None,
        shutdown=("expiration_date",),
        display_name="name",
        context_length=("context_length", "top_provider.context_length"),
    ),
    retrieve=False,
    key_pattern=re.compile(r"sk-or-[\w*-]+"),
    key_mask="sk-or-***",
    litellm_providers=("openrouter",),
)
