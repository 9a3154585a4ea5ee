"""DeepSeek: ``GET /models`` (Bearer), OpenAI's shape without ``created``, not paged.

The same id is repointed to new weights without any field changing, so a list diff cannot
see an upgrade. There is no retrieve endpoint for one id, so the list is believed.
"""

from __future__ import annotations

import re

from syncer.providers.profile import Fields, Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="deepseek",
    default_base_url="https://api.deepseek.com",
    key_env="DEEPSEEK_API_KEY",
    fields=Fields(created=None),
    retrieve=False,
    key_pattern=re.compile(r"sk-[\w*-]+"),
    key_mask="sk-***",
    litellm_providers=("deepseek",),
)
