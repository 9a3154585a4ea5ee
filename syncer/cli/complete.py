"""Shell completion of the names a command line takes: sources, alert rules, reports.

Names come from the configuration and the database, as fast as a key press needs: the
database is opened read-only and asked one question, without the schema check, a migration
or the network. Whatever fails (no configuration, no database yet, an older schema) offers
fewer names, never an error: a completion prints nothing but candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import click

from syncer.errors import SyncerError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from syncer.config.model import Settings

__all__ = ["complete_reports", "complete_rules", "complete_sources"]


def _settings(context: click.Context) -> Settings | None:
    """The settings the command line names (``--config``, ``--database-url``), or None."""
    from syncer.config.load import load_settings

    given = context.find_root().params
    logging.disable(logging.CRITICAL)  # a warning would land in the middle of the prompt
    try:
        return load_settings(
            config_file=given.get("config_file"),
            database_url=given.get("database_url"),
            base_url=given.get("base_url"),
        )
    except SyncerError:
        return None
    finally:
        logging.disable(logging.NOTSET)


def _stored(settings: Settings, ask: Callable[[Connection], Iterable[str]]) -> list[str]:
    """What one read-only question to the database answers; nothing when it cannot."""
    from sqlalchemy.exc import SQLAlchemyError

    from syncer.db.engine import make_engine

    try:
        engine = make_engine(settings.database_url, read_only=True, long_lived=False)
    except SyncerError:
        return []
    try:
        with engine.connect() as connection:
            return list(ask(connection))
    except (SyncerError, SQLAlchemyError):
        return []
    finally:
        engine.dispose()


def _starting(names: Iterable[str], incomplete: str) -> list[str]:
    return [name for name in dict.fromkeys(names) if name.startswith(incomplete)]


def complete_sources(context: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    """The configured sources, then those only the database holds (retired ones)."""
    settings = _settings(context)
    if settings is None:
        return []
    from syncer.sync.sources import stored_sources

    configured = [s.name for s in settings.sources]
    return _starting([*configured, *_stored(settings, stored_sources)], incomplete)


def complete_rules(context: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    """The configured alert rules, then those only the outbox still names."""
    settings = _settings(context)
    if settings is None:
        return []
    from sqlalchemy import select

    from syncer.db.tables import outbox_table

    def outbox(connection: Connection) -> list[str]:
        rule = outbox_table.c.rule
        return sorted(connection.scalars(select(rule).distinct()))

    return _starting([*(r.name for r in settings.alerts), *_stored(settings, outbox)], incomplete)


def complete_reports(
    _context: click.Context, _param: click.Parameter | None, incomplete: str
) -> list[str]:
    """The canned reports' names."""
    from syncer.reporting.reports import REPORTS

    return _starting(REPORTS, incomplete)
