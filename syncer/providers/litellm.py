"""A LiteLLM proxy's ``GET /v1/models``: OpenAI's shape, Bearer with a master or virtual key.

There is no default URL: ``base_url`` is the proxy's. Its list gives every model the same
constant ``created`` (1677610602, a day in 2023) and ``owned_by: "openai"`` whatever serves
it (BerriAI/litellm ``litellm/proxy/proxy_server.py``, ``model_list``; measured on 1.108.7),
so neither is stored as the model's; both stay in ``raw``. ``max_input_tokens`` is its
context length. ``GET /v1/models/{model_id}`` takes the id as a plain path parameter, so an
id with ``/`` (``meta-llama/Llama-3.1-8B-Instruct``) always answers 404: such a model is
found in the list instead, and its vanish is confirmed by the list alone. Errors are
``{"detail": "..."}``. The key variable is the one LiteLLM's own client reads for a proxy.
"""

from __future__ import annotations

from syncer.providers.profile import Fields, Profile, no_slash

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="litellm",
    default_base_url=None,
    key_env="LITELLM_PROXY_API_KEY",
    fields=Fields(created=None, owned_by=None, context_length=("max_input_tokens",)),
    retrievable=no_slash,
)
