"""A LiteLLM proxy's ``GET /v1/models``: OpenAI's shape, Bearer with a master or virtual key.

There is no default URL: ``base_url`` is the proxy's. Its list gives every model the same
constant ``created`` (1677610602, a day in 2023) and ``owned_by: "openai"`` whatever serves
it (BerriAI/litellm ``litellm/proxy/proxy_server.py``, ``model_list``; measured on 1.108.7),
so neither is stored as the model's; both stay in ``raw``. ``max_input_tokens`` is its
context length. ``GET /v1/models/{model_id}`` takes the id as a plain path parameter, so an
id with ``/`` (``meta-llama/Llama-3.1-8B-Instruct``) always answers 404: such a model is
found in the list instead, and its vanish is confirmed by the list alone. Errors are
``{"detail": "..."}`` or OpenAI's shape. The key variable is the one LiteLLM's own client reads
for a proxy.

A proxy without a database checks a key against its master key alone, and takes any other
key for a virtual key to look up: it answers ``400 {"error": {"message": "No connected db.",
"type": "no_db_connection"}}``, which says nothing of the key. Such an answer gets a hint.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from syncer.providers.profile import ErrorInfo, Fields, Profile, no_slash, read_error

__all__ = ["PROFILE", "read_litellm_error"]

NO_DATABASE = "no_db_connection"
WRONG_KEY_HINT = (
    "the key may be wrong: a LiteLLM proxy without a database answers this to every key "
    "but its master key"
)


def read_litellm_error(body: Any) -> ErrorInfo | None:
    """The proxy's words, with a hint when they are its answer to a key it does not know."""
    info = read_error(body)
    if info is not None and (
        info.type == NO_DATABASE or (info.message or "").strip() == "No connected db."
    ):
        return replace(info, hint=WRONG_KEY_HINT)
    return info


PROFILE = Profile(
    kind="litellm",
    default_base_url=None,
    key_env="LITELLM_PROXY_API_KEY",
    fields=Fields(created=None, owned_by=None, context_length=("max_input_tokens",)),
    retrievable=no_slash,
    read_error=read_litellm_error,
)
