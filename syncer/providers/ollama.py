"""Ollama's OpenAI-compatible ``GET /v1/models`` on the local server; no key.

``{"object": "list", "data": [...]}``, where ``data`` is ``null`` when no model is pulled
(ollama/ollama ``openai/openai.go`` @ 634c4166, ``ToListCompletion``: a nil Go slice). Each
entry is ``id``, ``object``, ``created`` (the time of the pull, so a re-pull is a
``changed`` event) and ``owned_by`` (the name's namespace, ``library`` for official models);
nothing more. ``GET /v1/models/{model}`` retrieves one, but its router decodes ``%2F``
before routing, so an id with ``/`` (``hf.co/org/model:Q4_K_M``) cannot be addressed: such
a model is found in the list instead, and its vanish is confirmed by the list alone.
"""

from __future__ import annotations

from syncer.providers.profile import Profile, no_slash

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="ollama",
    default_base_url="http://127.0.0.1:11434/v1",
    key_env=None,
    retrievable=no_slash,
    litellm_providers=("ollama", "ollama_chat"),
)
