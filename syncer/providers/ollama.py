"""Ollama's OpenAI-compatible ``GET /v1/models`` on the local server; no key.

``{"object": "list", "data": [...]}``, where ``data`` is ``null`` when no model is pulled
(ollama/ollama ``openai/openai.go`` @ fb307609, ``ToListCompletion``: a nil Go slice). Each
entry is ``id``, ``object``, ``created`` (the time of the pull, so a re-pull is a
``changed`` event) and ``owned_by`` (the name's namespace, ``library`` for official models);
nothing more. ``GET /v1/models/:model`` retrieves one (``server/routes.go`` @ fb307609,
``GenerateRoutes``), but the id cannot hold a ``/``: the router is ``gin.Default()`` on gin
v1.10.0, which routes on Go's already-decoded ``URL.Path`` (``UseRawPath`` is false;
gin-gonic/gin ``gin.go`` @ v1.10.0, ``handleHTTPRequest``), so ``%2F`` arrives as ``/``,
and ``:model`` matches one path segment. ``hf.co/org/model:Q4_K_M`` (sent encoded or not)
answers 404: such a model is found in the list instead, and its vanish is confirmed by the
list alone.
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
