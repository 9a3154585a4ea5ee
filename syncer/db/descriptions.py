"""What every table, view and column of the schema means, in one place.

The schema is a public interface, so its meaning is written down once, here, and read by
everything that explains it: the schema page of the manual (``docs/schema.md``, whose
column tables are generated from ``tables``, ``views`` and this module when the site is
built) and the Datasette metadata (``syncer.reporting.datasette``). A test fails when a
column of a table or view has no description here, or when a description names a column
that no longer exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["COLUMNS", "TABLES"]

#: One line per table and view: what one of its rows is.
TABLES: Final[Mapping[str, str]] = {
    "sync_runs": "One row per sync attempt: status ok, failed or held, counts and error.",
    "models": "The current state of every model ever seen, one row per (source, model_id).",
    "model_state": "What syncer writes of every model ever seen, one row per (source, "
    "model_id): every column of models but last_seen_at.",
    "source_listings": "When each source's latest successful sync listed its models: one row "
    "per source.",
    "model_events": "The append-only change log: added, vanished, reappeared, changed, "
    "shutdown_changed, status_changed, deleted, delete_failed.",
    "leases": "Which replica of syncer run does which job, until when; free once expired.",
    "model_usages": "Where each model id is used: one row per use a recorded scan found.",
    "import_runs": "One row per attempt to import a file of shutdown dates ([[imports]], "
    "deprecations import --url): ok, unchanged or failed.",
    "deprecations": "Imported shutdown dates (ids or globs) and replacements, with the file "
    "and page each came from.",
    "alert_outbox": "One row per alert, with its delivery status.",
    "alert_digests": "How far each digest rule's digests have covered its held alerts.",
    "alert_marks": "Shutdown countdown thresholds already alerted, per model and date.",
    "alert_stale_sources": "Sources a stale rule has reported; the row goes when the source "
    "recovers.",
    "alert_pruned": "Per rule, how many delivered alerts were pruned from the outbox.",
    "current_models": "View: the present inventory, with age and the shutdown date in force "
    "(provider or imported), where it came from and the status.",
    "model_availability": "View: one row per continuous interval in which a model was listed.",
    "inventory_daily": "View: per source and UTC day, models present and the day's events.",
    "model_offers": "View: every present model with the id it is compared by across sources.",
}

_SOURCE = "the source's name"
_MODEL: Final[Mapping[str, str]] = {
    "source": "primary key: the source's name and the model's id (`id`; Gemini's `name` "
    "without `models/`, Cohere's `name`)",
    "model_id": "primary key: the source's name and the model's id (`id`; Gemini's `name` "
    "without `models/`, Cohere's `name`)",
    "object": "the provider's `object` field (normally `model`)",
    "created": "the provider's creation time, unix seconds (`created`; Anthropic's "
    "`created_at`, Azure classic's `created_at`; null when not listed)",
    "created_at": "`created` as a timestamp",
    "owned_by": "the provider's `owned_by` (Together's `organization`)",
    "is_fine_tuned": "true for fine-tunes, by the kind's rule: `ft:...` and legacy "
    "`...:ft-...` ids (OpenAI, Mistral), Azure's `.ft-` ids, Cohere's "
    "`finetuned`, vLLM adapters",
    "shutdown_at": "announced shutdown: OpenAI's and Azure v1's `shutdown_date`, OpenRouter's "
    "`expiration_date`, Mistral's `deprecation`, Azure classic's "
    "`deprecation.inference` (null when none)",
    "display_name": "the provider's name for people (Anthropic `display_name`, Gemini "
    "`displayName`, OpenRouter `name`, Together `display_name`); null when the "
    "kind lists none",
    "context_length": "the input limit in tokens (Anthropic `max_input_tokens`, Gemini "
    "`inputTokenLimit`, OpenRouter and Together `context_length`, Mistral "
    "`max_context_length`, Groq `context_window`, vLLM `max_model_len`, ...)",
    "replacement": "the provider's named successor (Mistral's `deprecation_replacement_model`)",
    "raw": "the model's JSON exactly as last listed (JSONB on PostgreSQL)",
    "raw_digest": "fingerprint of `raw` (BLAKE2b, keyed by syncer's parser version and the "
    "source's kind), for syncer's own use: a sync skips models whose fingerprint "
    "is unchanged, and a source whose kind changes reads every model again",
    "first_seen_at": "when syncer first saw it",
    "last_seen_at": "the last successful sync whose list contained it (for a listed model, the "
    "source's `source_listings.listed_at`; otherwise `model_state.seen_until`)",
    "vanished_at": "when it vanished; null while present",
    "deleted_at": "when syncer's retention rule deleted it (`vanished_at` is set to the same time)",
    "lifecycle_status": "the provider's own lifecycle status, lower case: Cohere "
    "`is_deprecated: true` → `deprecated`, Azure classic `lifecycle_status` "
    "as listed (`preview`, `generally-available`, ...), Groq "
    "`active: false` → `inactive`, a Mistral fine-tune's `archived: true` → "
    "`archived`; null when the provider says nothing",
    "effective_shutdown_at": "**the shutdown date in force**: the provider's `shutdown_at`, "
    "else the most specific imported date (globs resolved); null when "
    "neither",
    "date_source": "where that date came from: `provider` or `imported` (null without a date)",
    "date_origin": "`provider`, or the file (as named on the command line) or URL the imported "
    "date came from",
    "date_source_url": "the page an imported date cites (LiteLLM's `deprecation_source`, a "
    "file's `source_url`)",
    "effective_replacement": "the replacement in force: the provider's `replacement`, else the "
    "imported entry's",
}
_AS_IN_MODELS = "as in `models`"
_IN_FORCE = {
    "date_source": "`provider` or `imported` (since migration 0013)",
    "date_origin": "`provider` or the import's file or URL (since migration 0013)",
    "date_source_url": "the page an imported date cites (since migration 0013)",
    "replacement": "the replacement in force (since migration 0013)",
    "lifecycle_status": "the provider's lifecycle status, as in `models` (since migration 0013)",
}
_RUN_EVENTS = "events this run recorded (null for failed and held runs)"
_DAY_EVENTS = "that day's events of each kind"
_ALERT_KEY = (
    "countdown thresholds already alerted, keyed by (`rule`, `source`, `model_id`, "
    "`threshold_days`, `shutdown_at`)"
)

#: Per table and view, what each column holds (Markdown: ids and values in backticks).
COLUMNS: Final[Mapping[str, Mapping[str, str]]] = {
    "sync_runs": {
        "id": "run number, increasing",
        "source": _SOURCE,
        "started_at": "when the attempt started and ended",
        "finished_at": "when the attempt started and ended",
        "status": "`ok`, `failed` (nothing changed; see `error`) or `held` (looked like an "
        "outage; nothing changed)",
        "models_seen": "models in the provider's list (null for a failed run)",
        "added": _RUN_EVENTS,
        "vanished": _RUN_EVENTS,
        "reappeared": _RUN_EVENTS,
        "changed": _RUN_EVENTS,
        "error": "why the run failed or was held",
        "list_digest": "fingerprint of the applied list, used to skip unchanged syncs (cleared "
        "when the source is retired)",
    },
    "models": _MODEL,
    "model_state": {
        **{name: text for name, text in _MODEL.items() if name != "last_seen_at"},
        "seen_until": "null while the source's latest successful sync listed the model; "
        "otherwise when a sync last listed it (it vanished, was deleted, or is "
        "kept present because its vanish could not be confirmed)",
    },
    "source_listings": {
        "source": "the source's name (primary key)",
        "listed_at": "when the source's latest successful sync listed its models",
    },
    "model_events": {
        "id": "event number, increasing",
        "source": "which model",
        "model_id": "which model",
        "kind": "`added`, `vanished`, `reappeared`, `changed`, `shutdown_changed` or "
        "`status_changed` (by a sync; `shutdown_changed` also by an import of dates); "
        "`deleted` or `delete_failed` (by retention); `source_retired` (by "
        "`syncer sources retire`)",
        "occurred_at": "when the sync (or import) that saw it ran (all events of one sync "
        "share it)",
        "sync_run_id": "the `sync_runs.id` that recorded it (null for retention's and imports' "
        "events)",
        "old_values": "for `changed`: the differing top-level fields before and after, e.g. "
        '`{"owned_by": "openai"}` → `{"owned_by": "system"}`; for '
        '`shutdown_changed`: `{"shutdown_at": ...}` before and after (ISO-8601 '
        "UTC with microseconds, as JSON output writes times, or null); for "
        '`status_changed`: `{"lifecycle_status": ...}` before and after; SQL '
        "NULL for other kinds",
        "new_values": "for `changed`: the differing top-level fields before and after, e.g. "
        '`{"owned_by": "openai"}` → `{"owned_by": "system"}`; for '
        '`shutdown_changed`: `{"shutdown_at": ...}` before and after (ISO-8601 '
        "UTC with microseconds, as JSON output writes times, or null); for "
        '`status_changed`: `{"lifecycle_status": ...}` before and after; SQL '
        "NULL for other kinds",
        "details": "for retention's events: the rule, the reason, the family, the HTTP status "
        "and, for `delete_failed`, the error; for `shutdown_changed`: `date_source` "
        "(`provider` or `imported`) and, for an import, `origin`, `source_url` and "
        "`provider_shutdown_at`; null otherwise",
    },
    "leases": {
        "name": "the job: `sync:SOURCE`, `retention:SOURCE`, `import:ORIGIN`, "
        "`alerts-dispatch` or `alerts-stale`",
        "holder": "the replica (`HOST:PID`) holding it, or that held it last once it is free",
        "acquired_at": "when the holder took it",
        "expires_at": "when it runs out unless renewed; a lease past it is free",
    },
    "model_usages": {
        "repository": "primary key: the repository's name as given, the file's path from the "
        "scanned directory, and where the id starts (from 1; `column` counts "
        'characters). `column` is an SQL keyword: quote it (`"column"`)',
        "path": "primary key: the repository's name as given, the file's path from the "
        "scanned directory, and where the id starts (from 1; `column` counts "
        'characters). `column` is an SQL keyword: quote it (`"column"`)',
        "line": "primary key: the repository's name as given, the file's path from the "
        "scanned directory, and where the id starts (from 1; `column` counts "
        'characters). `column` is an SQL keyword: quote it (`"column"`)',
        "column": "primary key: the repository's name as given, the file's path from the "
        "scanned directory, and where the id starts (from 1; `column` counts "
        'characters). `column` is an SQL keyword: quote it (`"column"`)',
        "model_id": "the id as the inventory has it (`gpt-4o` for "
        "`openrouter/openai/gpt-4o:free` when a source lists that); for an id no "
        "source lists, as written without its prefixes (indexed)",
        "verdict": "`vanished`, `shutting-down`, `deprecated`, `not-listed` or `ok`, at "
        "`scanned_at`",
        "scanned_at": "when the scan that found it ran",
    },
    "import_runs": {
        "id": "attempt number, increasing",
        "origin": "the URL (its password and query masked) or the file's path: the "
        "`deprecations.origin` of its dates",
        "started_at": "when the attempt started and ended",
        "finished_at": "when the attempt started and ended",
        "status": "`ok` (the dates were applied, in the same transaction as this row), "
        "`unchanged` (`304 Not Modified`, or the same bytes as the import applied "
        "last) or `failed` (nothing applied: the last good import stays)",
        "entries": "`ok` only: the dates stored",
        "changed": "`ok` only: the present models whose imported date moved (each got a "
        "`shutdown_changed` event)",
        "error": "`failed` only: why, on one line, secrets masked",
        "etag": "the `ETag` of the document applied, sent back as `If-None-Match`",
        "last_modified": "the `Last-Modified` of the document applied, sent back as "
        "`If-Modified-Since`",
        "body_digest": "SHA-256 of the document applied",
        "config_digest": "SHA-256 of what of the configuration reading it depends on (which "
        "sources each LiteLLM provider gives dates to)",
    },
    "deprecations": {
        "source": "ids or globs; together the key",
        "model": "ids or globs; together the key",
        "shutdown_at": "the imported shutdown date",
        "replacement": "the imported replacement",
        "imported_at": "when it was imported",
        "origin": "the file or URL it was imported from; required since migration 0013, which "
        "gave older rows without one `unknown`",
        "source_url": "the page it cites, such as LiteLLM's `deprecation_source`",
    },
    "alert_outbox": {
        "id": "the order alerts are written and delivered in",
        "alert_id": "the stable UUID, the same as the payload's `id`",
        "rule": "the alert rule's name",
        "kind": "the alert's kind, as in the payload",
        "channel": "`webhook`, `slack` or `apprise`",
        "source": "the source the alert is about, if any",
        "model_id": "the model the alert is about, if any",
        "payload": "the version-1 JSON document, or a digest's version-2 one",
        "status": "`pending`, `delivered`, `failed`, `held` or `digested`",
        "attempts": "delivery attempts so far",
        "next_attempt_at": "when delivery is tried next",
        "last_error": "why the last attempt failed",
        "created_at": "when the alert was written",
        "delivered_at": "when it was delivered",
    },
    "alert_digests": {
        "rule": "the digest rule",
        "covered_until": "the latest fire time of its schedule a digest, or an empty window, "
        "was decided for",
        "last_digest_id": "the `alert_id` of its latest digest",
        "updated_at": "when the row last changed",
    },
    "alert_marks": {
        "rule": _ALERT_KEY,
        "source": _ALERT_KEY,
        "model_id": _ALERT_KEY,
        "threshold_days": '0 for "the date has come"',
        "shutdown_at": "the date counted down to: a moved date is a new key",
        "marked_at": "when the threshold was alerted",
    },
    "alert_stale_sources": {
        "rule": "the stale rule",
        "source": "the source it reported",
        "last_success_at": "the source's last successful sync at the time",
        "alerted_at": "when it was reported",
    },
    "alert_pruned": {
        "rule": "the rule",
        "delivered": "how many `delivered` alerts were pruned from the outbox, so the "
        "delivered count in `/metrics` never goes down",
    },
    "current_models": {
        "source": _AS_IN_MODELS,
        "model_id": _AS_IN_MODELS,
        "owned_by": _AS_IN_MODELS,
        "created_at": _AS_IN_MODELS,
        "age_days": "whole days since `created_at` (null when the provider gives no `created`)",
        "is_fine_tuned": _AS_IN_MODELS,
        "base_model": "the model a fine-tune was trained from: `gpt-4o-mini-2024-07-18` for "
        "`ft:gpt-4o-mini-2024-07-18:acme:support:AbC123`, `curie` for "
        "`curie:ft-acme-2022-12-01`; null for other models",
        "shutdown_at": "the date in force: the provider's, else an imported one, as `syncer "
        "deprecations` shows it; before migration 0013, the provider's only",
        "days_to_shutdown": "whole days until `shutdown_at`, rounded up as `syncer "
        "deprecations` and the countdown alerts count them (0 or less once "
        "the date has come; null when none is announced)",
        "first_seen_at": _AS_IN_MODELS,
        "last_seen_at": _AS_IN_MODELS,
        **_IN_FORCE,
    },
    "model_availability": {
        "source": "which model",
        "model_id": "which model",
        "interval_number": "1 for the first interval of the model in this source, then 2, 3, ...",
        "available_from": "when the interval started (the model was present from this moment)",
        "available_until": "when it ended (the model was gone from this moment); null while "
        "still present",
        "started_by": "`added` (the first interval) or `reappeared`",
        "ended_by": "`vanished`, `deleted` or `source_retired`; null while still present",
        "days_available": "length in days (to now while still present), to three decimals",
    },
    "inventory_daily": {
        "source": "the source and the UTC date",
        "day": "the source and the UTC date",
        "present": "models present at the end of the day (0 from the day a source is retired)",
        "added": _DAY_EVENTS,
        "reappeared": _DAY_EVENTS,
        "vanished": _DAY_EVENTS,
        "deleted": _DAY_EVENTS,
        "changed": _DAY_EVENTS,
        "source_retired": "models `syncer sources retire` took out of the inventory that day "
        "(since migration 0015)",
    },
    "model_offers": {
        "common_id": "the id in lower case without a leading `vendor/` or `models/` segment "
        "(`openai/gpt-4o` is `gpt-4o`)",
        "source": "the source and the id it lists",
        "model_id": "the source and the id it lists",
        "display_name": _AS_IN_MODELS,
        "context_length": _AS_IN_MODELS,
        "shutdown_at": "the date in force, globs resolved, as everywhere since migration 0013",
        "days_to_shutdown": "rounded up, as in `current_models`",
        **_IN_FORCE,
    },
}
