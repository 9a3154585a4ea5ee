"""model_state stores each model's lifecycle status and the lifecycle in force; the views
read them; every imported date names where it came from.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

The date in force (the provider's, else an imported one, globs and all) used to be decided
in Python at read time, twice, so plain SQL, ``current_models`` and ``report shutdowns``
never saw an imported date. Now ``syncer.lifecycle.decide`` decides it when a sync or an
import changes an input and the row keeps it: ``effective_shutdown_at``, ``date_source``
(``provider`` or ``imported``), ``date_origin`` (``provider`` or the import's file or URL),
``date_source_url``, ``effective_replacement``; beside them the provider's own
``lifecycle_status``. The stored rows are filled here by the same rule, frozen in this file
(a migration must not change with the code); the status is filled by the next sync of each
source, which reads every model again (the parser's version changed with it).

``current_models.shutdown_at`` and ``days_to_shutdown`` become the date in force, and the
view gains where it came from, the replacement and the status; ``model_offers`` reads the
stored columns (it resolved exact ids only); ``models`` gains the stored columns at its end.
``deprecations.origin`` becomes required: rows imported without one say ``unknown``.
"""

from __future__ import annotations

import importlib.util
from fnmatch import fnmatchcase
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
COLUMNS = (
    ("lifecycle_status", sa.Text()),
    ("effective_shutdown_at", TIMESTAMP),
    ("date_source", sa.String(length=16)),
    ("date_origin", sa.Text()),
    ("date_source_url", sa.Text()),
    ("effective_replacement", sa.Text()),
)

MODELS_VIEW = """
CREATE VIEW models AS
SELECT
    m.source, m.model_id, m.object, m.created, m.created_at, m.owned_by, m.is_fine_tuned,
    m.shutdown_at, m.raw, m.raw_digest, m.first_seen_at,
    COALESCE(m.seen_until, l.listed_at) AS last_seen_at,
    m.vanished_at, m.deleted_at, m.display_name, m.context_length, m.replacement,
    m.lifecycle_status, m.effective_shutdown_at, m.date_source, m.date_origin,
    m.date_source_url, m.effective_replacement
FROM model_state m
LEFT JOIN source_listings l ON l.source = m.source
"""


def _migration(file_name: str) -> ModuleType:
    """An earlier migration of this folder, for the view definitions it holds."""
    path = Path(__file__).with_name(file_name)
    spec = importlib.util.spec_from_file_location(f"syncer_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _current_models(dialect: str) -> str:
    m0003 = _migration("0003_days_to_shutdown_rounds_up.py")
    days = _migration("0004_provider_columns.py")._days_to_shutdown(
        dialect, "effective_shutdown_at"
    )
    return f"""
    CREATE VIEW current_models AS
    SELECT
        source,
        model_id,
        owned_by,
        created_at,
        {m0003._age_days(dialect)} AS age_days,
        is_fine_tuned,
        {m0003._base_model(dialect)} AS base_model,
        effective_shutdown_at AS shutdown_at,
        {days} AS days_to_shutdown,
        first_seen_at,
        last_seen_at,
        date_source,
        date_origin,
        date_source_url,
        effective_replacement AS replacement,
        lifecycle_status
    FROM models
    WHERE vanished_at IS NULL AND deleted_at IS NULL
    """


def _model_offers(dialect: str) -> str:
    m0004 = _migration("0004_provider_columns.py")
    return f"""
    CREATE VIEW model_offers AS
    SELECT
        {m0004._common_id(dialect, "m.model_id")} AS common_id,
        m.source,
        m.model_id,
        m.display_name,
        m.context_length,
        m.effective_shutdown_at AS shutdown_at,
        {m0004._days_to_shutdown(dialect, "m.effective_shutdown_at")} AS days_to_shutdown,
        m.date_source,
        m.effective_replacement AS replacement,
        m.date_origin,
        m.date_source_url,
        m.lifecycle_status
    FROM models m
    WHERE m.vanished_at IS NULL AND m.deleted_at IS NULL
    """


_GLOB = frozenset("*?[")


def _specificity(entry: Any) -> tuple[bool, int, bool, int, str, str]:
    """As ``syncer.lifecycle`` ranks entries on 2026-12-07: exact ids, then longer globs."""
    return (
        not _GLOB & set(entry.model),
        len(entry.model),
        not _GLOB & set(entry.source),
        len(entry.source),
        entry.model,
        entry.source,
    )


def _fill(bind: sa.Connection) -> None:
    """Every stored model's lifecycle in force, by the rule of ``syncer.lifecycle.decide``."""
    state = sa.table(
        "model_state",
        *(
            sa.column(n)
            for n in (
                "source",
                "model_id",
                "shutdown_at",
                "replacement",
                "effective_shutdown_at",
                "date_source",
                "date_origin",
                "date_source_url",
                "effective_replacement",
            )
        ),
    )
    # The provider's date and replacement, set-based: most rows need nothing else.
    bind.execute(state.update().values(effective_replacement=state.c.replacement))
    bind.execute(
        state.update()
        .where(state.c.shutdown_at.is_not(None))
        .values(
            effective_shutdown_at=state.c.shutdown_at,
            date_source="provider",
            date_origin="provider",
        )
    )
    entries = bind.execute(
        sa.text(
            "SELECT model, shutdown_at, replacement, source, source_url, origin FROM deprecations"
        )
    ).all()
    if not entries:
        return
    exact: dict[str, list[Any]] = {}
    globs = []
    for entry in entries:
        if _GLOB & set(entry.model):
            globs.append(entry)
        else:
            exact.setdefault(entry.model, []).append(entry)
    updates = []
    rows = bind.execute(
        sa.select(state.c.source, state.c.model_id, state.c.shutdown_at, state.c.replacement)
    )
    for source, model_id, provider_date, replacement in rows:
        found = [
            e
            for e in (*exact.get(model_id, ()), *globs)
            if fnmatchcase(source, e.source) and fnmatchcase(model_id, e.model)
        ]
        entry = max(found, key=_specificity, default=None)
        if entry is None:
            continue
        values = {"s": source, "m": model_id, "r": replacement or entry.replacement}
        if provider_date is None:
            values.update(d=entry.shutdown_at, o=entry.origin, u=entry.source_url)
            updates.append(values)
        elif values["r"] != replacement:
            values.update(d=provider_date, o="provider", u=None)
            updates.append(values)
    imported = [u for u in updates if u["o"] != "provider"]
    provider = [u for u in updates if u["o"] == "provider"]
    key = (state.c.source == sa.bindparam("s")) & (state.c.model_id == sa.bindparam("m"))
    if imported:
        bind.execute(
            state.update()
            .where(key)
            .values(
                effective_shutdown_at=sa.bindparam("d"),
                date_source="imported",
                date_origin=sa.bindparam("o"),
                date_source_url=sa.bindparam("u"),
                effective_replacement=sa.bindparam("r"),
            ),
            imported,
        )
    if provider:
        bind.execute(
            state.update()
            .where(key)
            .values(
                effective_replacement=sa.bindparam("r"),
            ),
            provider,
        )


def _drop_views() -> None:
    op.execute("DROP VIEW model_offers")
    op.execute("DROP VIEW current_models")
    op.execute("DROP VIEW models")


def upgrade() -> None:
    _drop_views()
    op.execute("UPDATE deprecations SET origin = 'unknown' WHERE origin IS NULL OR origin = ''")
    with op.batch_alter_table("deprecations") as batch:
        batch.alter_column("origin", existing_type=sa.Text(), nullable=False)
    for name, type_ in COLUMNS:
        op.add_column("model_state", sa.Column(name, type_, nullable=True))
    bind = op.get_bind()
    _fill(bind)
    dialect = bind.dialect.name
    # Sent as written: the colons in 'ft:' would otherwise read as bind parameters.
    bind.exec_driver_sql(MODELS_VIEW)
    bind.exec_driver_sql(_current_models(dialect))
    bind.exec_driver_sql(_model_offers(dialect))


def downgrade() -> None:
    _drop_views()
    # Plain ALTER TABLE (SQLite 3.35 and later): as in 0004's downgrade.
    for name, _ in reversed(COLUMNS):
        op.execute(f"ALTER TABLE model_state DROP COLUMN {name}")
    with op.batch_alter_table("deprecations") as batch:
        batch.alter_column("origin", existing_type=sa.Text(), nullable=True)
    m0007 = _migration("0007_model_state.py")
    op.execute(m0007.MODELS_VIEW)
    m0007._readers_of_models(create=True)
