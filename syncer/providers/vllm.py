"""vLLM's OpenAI-compatible server: ``GET /v1/models``, Bearer only if started with a key.

Each card adds ``root`` (the weights' path), ``parent`` (null for a base model, the base's
id for a LoRA adapter, which counts as a fine-tune here) and ``max_model_len``. Adapters
come and go with ``/v1/load_lora_adapter``. The server builds every card per request
(``ModelCard`` and ``ModelPermission`` in ``vllm/entrypoints/openai/engine/protocol.py``):
``created`` is the time of the request and each ``permission`` gets a new id and time, so
neither says anything about the model. Both are regenerated fields: kept in ``raw``, never
a change, and ``created`` is not stored as the model's creation. There is no retrieve
endpoint for one id, so the list is believed. The key is the one the server reads,
``VLLM_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncer.providers.profile import Fields, FineTunes, Profile

__all__ = ["PROFILE", "is_fine_tuned"]


def is_fine_tuned(model_id: str, raw: Mapping[str, Any]) -> bool:
    """A LoRA adapter, which names its base model as ``parent``."""
    return isinstance(raw.get("parent"), str) and bool(raw["parent"])


PROFILE = Profile(
    kind="vllm",
    default_base_url="http://127.0.0.1:8000/v1",
    key_env="VLLM_API_KEY",
    fields=Fields(created=None, context_length=("max_model_len",)),
    retrieve=False,
    regenerated=frozenset({"created", "permission"}),
    fine_tunes=FineTunes(is_fine_tuned=is_fine_tuned),
)
