"""Configuration: frozen settings (``model``), built once from CLI, environment and TOML."""

from syncer.config.load import load_settings
from syncer.config.model import (
    AlertRule,
    Channel,
    HTTPSettings,
    RetentionRule,
    Schedule,
    Settings,
    Source,
    SyncPolicy,
)

__all__ = [
    "AlertRule",
    "Channel",
    "HTTPSettings",
    "RetentionRule",
    "Schedule",
    "Settings",
    "Source",
    "SyncPolicy",
    "load_settings",
]
