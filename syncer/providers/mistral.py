"""Mistral: ``GET /v1/models`` (Bearer), ``{"object": "list", "data": [...]}``, not paged.

Base models carry ``deprecation`` (an ISO 8601 date-time, or null), the named successor
``deprecation_replacement_model`` and ``max_context_length``; aliases are listed as their
own entries too (``mistral-medium-latest`` beside ``mistral-medium-2508``). Fine-tunes are
``ft:{base}:{org}:{YYYYMMDD}[:{suffix}]:{id}`` and ``DELETE /v1/models/{id}`` deletes them, so
retention works here as on OpenAI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from syncer.providers.profile import Family, Fields, FineTunes, Profile

__all__ = ["PROFILE", "fine_tune_family", "is_fine_tuned"]

_DAY = re.compile(r"\d{8}")


def is_fine_tuned(model_id: str, raw: Mapping[str, Any]) -> bool:
    return model_id.startswith("ft:")


def fine_tune_family(model_id: str) -> Family | None:
    """(base, suffix) of ``ft:open-mistral-7b:504267b8:20240620:MyCoach:29b5b062``.

    The date is the day of training, so successive versions share the family; without a
    suffix the family is the base alone.
    """
    parts = model_id.split(":")
    if len(parts) < 5 or parts[0] != "ft" or not all(parts[1:3]) or not parts[-1]:
        return None
    if not _DAY.fullmatch(parts[3]):
        return None
    return Family(parts[1], ":".join(parts[4:-1]))


PROFILE = Profile(
    kind="mistral",
    default_base_url="https://api.mistral.ai/v1",
    key_env="MISTRAL_API_KEY",
    fields=Fields(
        shutdown=("deprecation",), replacement="deprecation_replacement_model",
        context_length=("max_context_length",),
    ),
    fine_tunes=FineTunes(
        is_fine_tuned=is_fine_tuned,
        family=fine_tune_family,
        owners=frozenset({"mistralai"}),
        deletable=True,
    ),
    litellm_providers=("mistral",),
)
