"""xAI: ``GET /v1/models`` (Bearer), OpenAI's shape, not paged, no lifecycle field."""

from __future__ import annotations

import re

from syncer.providers.profile import Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="xai",
    default_base_url="https://api.x.ai/v1",
    key_env="XAI_API_KEY",
    key_pattern=re.compile(r"xai-[\w*]+"),
    key_mask="xai-***",
    litellm_providers=("xai",),
)
