"""A LiteLLM proxy's ``GET /v1/models``: OpenAI's shape, Bearer with a master or virtual key.

There is no default URL: ``base_url`` is the proxy's. Its list says ``owned_by: "openai"``
for every model whatever serves it, so the owner is not taken from it. Errors are
``{"detail": "..."}``. The key variable is the one LiteLLM's own client reads for a proxy.
"""

from __future__ import annotations

from syncer.providers.profile import Fields, Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="litellm",
    default_base_url=None,
    key_env="LITELLM_PROXY_API_KEY",
    fields=Fields(owned_by=None, context_length=("max_input_tokens",)),
)
