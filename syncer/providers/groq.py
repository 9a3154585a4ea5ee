"""Groq: ``GET /openai/v1/models`` (Bearer), OpenAI's shape plus ``context_window``, ``active``.

``active: false`` is Groq's only lifecycle hint (groq/groq-python ``types/model.py``): it is
the status ``inactive``, and a flip is a ``status_changed`` event beside the ``changed`` one.
Deprecation dates are only on Groq's deprecations page.
"""

from __future__ import annotations

import re

from syncer.providers.profile import Fields, Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    kind="groq",
    default_base_url="https://api.groq.com/openai/v1",
    key_env="GROQ_API_KEY",
    fields=Fields(
        context_length=("context_window",),
        status="active",
        status_flags={False: "inactive"},
    ),
    key_pattern=re.compile(r"gsk_[\w*]+"),
    key_mask="gsk_***",
    litellm_providers=("groq",),
)
