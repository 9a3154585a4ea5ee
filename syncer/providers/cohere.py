"""Cohere: ``GET /v1/models`` (Bearer) answers ``{"models": [...], "next_page_token"}``.

``page_size=1000``, then ``page_token`` until no token comes. A model is keyed by ``name``
(there is no ``id``), with ``context_length`` and ``finetuned``; no ``created``, no owner.
Its lifecycle field is ``is_deprecated`` (``GetModelResponse`` in Cohere's OpenAPI document,
cohere-ai/cohere-developer-experience @ e814c8a1, ``cohere-openapi.yaml`` L28242): ``true``
is the status ``deprecated``. The SDK reads the key from ``CO_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncer.providers.paging import page_token
from syncer.providers.profile import Fields, FineTunes, Profile

__all__ = ["PROFILE", "is_fine_tuned"]


def is_fine_tuned(model_id: str, raw: Mapping[str, Any]) -> bool:
    return raw.get("finetuned") is True


PROFILE = Profile(
    kind="cohere",
    default_base_url="https://api.cohere.com/v1",
    key_env="CO_API_KEY",
    list_query={"page_size": "1000"},
    paginator=page_token("next_page_token", "page_token"),
    items="models",
    fields=Fields(
        id="name",
        created=None,
        owned_by=None,
        object=None,
        context_length=("context_length",),
        status="is_deprecated",
        status_flags={True: "deprecated"},
    ),
    fine_tunes=FineTunes(is_fine_tuned=is_fine_tuned),
    litellm_providers=("cohere", "cohere_chat"),
)
