"""Mistral: ``GET /v1/models`` (Bearer), ``{"object": "list", "data": [...]}``, not paged.

As its spec writes it (mistralai/platform-docs-public ``public/openapi.yaml`` @ 222f4ba9,
``ModelList``, ``BaseModelCard``, ``FTModelCard``): ``data`` is optional (an answer without
it lists no model), and each card's ``type`` is ``base`` or ``fine-tuned``. Cards carry
``deprecation`` (an ISO 8601 date-time, or null), the named successor
``deprecation_replacement_model`` and ``max_context_length``; aliases are listed as their
own entries too (``mistral-medium-latest`` beside ``mistral-medium-2508``). A fine-tune is
a card of ``type`` ``fine-tuned`` or an ``ft:{base}:{org}:{YYYYMMDD}[:{suffix}]:{id}`` id.
``DELETE /v1/models/{id}`` deletes one, so retention works here as on OpenAI, on the
fine-tunes it can tell by their ``ft:`` id alone (retention reads stored ids, not cards).
The spec's own list example is a bare array, against its ``ModelList`` schema: such an
answer fails the sync. A fine-tune's ``archived: true`` (``FTModelCard``) is the status
``archived``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from syncer.providers.profile import Family, Fields, FineTunes, Profile

__all__ = ["PROFILE", "fine_tune_family", "is_fine_tuned"]

_DAY = re.compile(r"\d{8}")


def is_fine_tuned(model_id: str, raw: Mapping[str, Any]) -> bool:
    """The card says so (``type: fine-tuned``), or the id is a fine-tune's."""
    return raw.get("type") == "fine-tuned" or model_id.startswith("ft:")


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
    items_optional=True,
    fields=Fields(
        shutdown=("deprecation",),
        replacement="deprecation_replacement_model",
        context_length=("max_context_length",),
        # FTModelCard's ``archived`` (default false): an archived fine-tune.
        status="archived",
        status_flags={True: "archived"},
    ),
    fine_tunes=FineTunes(
        is_fine_tuned=is_fine_tuned,
        family=fine_tune_family,
        owners=frozenset({"mistralai"}),
        deletable=True,
        part_separator=":",
    ),
    litellm_providers=("mistral",),
)
