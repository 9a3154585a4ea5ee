"""Ollama's OpenAI-compatible ``GET /v1/models`` on the local server; no key.

``{"object": "list", "data": [...]}``, where ``data`` is ``null`` when no model is pulled.
``owned_by`` is the name's namespace (``library`` for official models), and ``created`` the
time of the pull, so a re-pull is a ``changed`` event. Newer builds add a context length.
"""

from __future__ import annotations

from syncer.providers.profile import Fields, Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="ollama",
    default_base_url="http://127.0.0.1:11434/v1",
    key_env=None,
    fields=Fields(context_length=("context_length", "max_model_len")),
    litellm_providers=("ollama", "ollama_chat"),
)
