"""Generated bad input: list bodies and TOML files with every kind of mistake.

Whatever a provider answers and whatever a config file says, syncer answers with one line
naming what is wrong: never a traceback, and never a change to the stored models or events.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from werkzeug import Response

from syncer.cli import cli
from syncer.db.engine import read_session
from syncer.db.schema import Model, ModelEvent, SyncRun
from tests.fakes import API_KEY, FakeProvider, closed_port

EXAMPLES = int(os.environ.get("BAD_INPUT_EXAMPLES", "40"))
Run = Callable[..., Result]


def store(engine: Engine) -> tuple[Any, ...]:
    """What a bad answer must not change: every model row and every event."""
    with read_session(engine) as session:
        models = session.execute(
            select(Model.model_id, Model.raw_digest, Model.vanished_at).order_by(Model.model_id)
        ).all()
        events = session.scalar(select(func.count()).select_from(ModelEvent))
    return tuple(models), events


def last_status(engine: Engine) -> str | None:
    with read_session(engine) as session:
        return session.scalar(select(SyncRun.status).order_by(SyncRun.id.desc()).limit(1))


def json_values(depth: int = 3) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=5), children, max_size=3)
        ),
        max_leaves=depth * 3,
    )


bad_ids = st.one_of(
    st.integers(),
    st.none(),
    st.booleans(),
    st.just(""),
    st.lists(st.text(), max_size=2),
    st.text(min_size=513, max_size=600),  # longer than an id may be
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc"]), min_size=1, max_size=3).map(
        lambda c: f"gpt{c}x"
    ),  # control characters
)
bad_entries = st.one_of(
    json_values(),
    st.fixed_dictionaries({"id": bad_ids}, optional={"owned_by": json_values()}),
    st.fixed_dictionaries({"object": st.just("model")}),  # no id at all
)
bad_bodies = st.one_of(
    json_values().filter(lambda v: not isinstance(v, dict)),  # not an object
    st.fixed_dictionaries(
        {
            "object": st.just("list"),
            "data": json_values().filter(lambda v: not isinstance(v, list) and v is not None),
        }
    ),
    st.builds(
        lambda good, bad, at: {"object": "list", "data": [*good[:at], bad, *good[at:]]},
        st.just([{"id": "gpt-4o"}, {"id": "o1"}]),
        bad_entries,
        st.integers(0, 2),
    ),
)


@pytest.fixture
def sync(invoke: Run, provider: FakeProvider, engine: Engine) -> Run:
    """``syncer sync`` on a store that already holds a good inventory."""
    provider.set("gpt-4o", "o1", "gpt-4-0613")
    assert invoke("sync").exit_code == 0
    return invoke


def assert_refused(result: Result, engine: Engine, before: tuple[Any, ...]) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    said = [line for line in result.output.splitlines() if "openai: " in line]
    assert len(said) == 1 and said[0].startswith("Error: openai: FAILED after "), result.output
    assert API_KEY not in result.output
    assert store(engine) == before
    assert last_status(engine) == "failed"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bad_bodies)
def test_a_list_body_of_the_wrong_shape_fails_the_sync_and_changes_nothing(
    sync: Run, provider: FakeProvider, engine: Engine, body: Any
) -> None:
    before = store(engine)
    provider.queue.append(Response(json.dumps(body), content_type="application/json"))

    assert_refused(sync("sync"), engine, before)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            '{"object": "list", "data": [{"id": "a", "x": ' + "[" * 100_000 + "]" * 100_000 + "}]}",
            id="deep-nesting",
        ),
        pytest.param(
            '{"object": "list", "data": [{"id": "gpt-4o"}, {"id": "o1"}, '
            '{"id": "gpt-4-0613"}, {"id": "a\\ud800"}]}',
            id="lone-surrogate-id",
        ),
        pytest.param(
            '{"object": "list", "data": [{"id": "gpt-4o"}, {"id": "o1"}, '
            '{"id": "gpt-4-0613", "owned_by": "\\udfff"}]}',
            id="lone-surrogate-field",
        ),
        pytest.param(
            '{"object": "list", "data": [{"id": "' + "x" * 5_000_000 + '"}]}', id="huge-string"
        ),
        pytest.param(
            '{"object": "list", "data": [' + ",".join(["1"] * 1_000_000) + "]}",
            id="a-million-wrong-entries",
        ),
        pytest.param(b'{"object": "list", "data": [{"id": "\xff\xfe"}]}', id="not-utf-8"),
        pytest.param('{"object": "list", "data": [{"id": "a"}]', id="cut-mid-json"),
        pytest.param("<html><body>502 Bad Gateway</body></html>", id="html"),
    ],
)
def test_pathological_bodies_fail_the_sync_in_one_line(
    sync: Run, provider: FakeProvider, engine: Engine, body: str | bytes
) -> None:
    before = store(engine)
    provider.queue.append(Response(body, content_type="application/json"))

    assert_refused(sync("sync"), engine, before)


def test_a_model_nested_deeply_but_readably_is_stored_as_listed(
    sync: Run, provider: FakeProvider, engine: Engine
) -> None:
    deep: Any = []
    for _ in range(900):
        deep = [deep]
    provider.models.append({"id": "deep", "x": deep})

    result = sync("sync")

    assert result.exit_code == 0, result.output
    assert "openai: 4 models, 1 added" in result.output
    assert sync("models", "show", "deep").exit_code == 0


@pytest.mark.skipif(not os.environ.get("SOAK_SYNCS"), reason="long: set SOAK_SYNCS to run it")
def test_a_million_models_and_duplicate_ids_are_taken_not_refused(
    sync: Run, provider: FakeProvider, engine: Engine
) -> None:
    data = [{"id": f"m{i}"} for i in range(1_000_000)] + [{"id": "m7"}]
    provider.queue.append(
        Response(json.dumps({"object": "list", "data": data}), content_type="application/json")
    )

    result = sync("sync", "--accept-mass-change")

    assert result.exit_code == 0, result.output
    assert "openai: 1000000 models, 1000000 added" in result.output
    assert "duplicate" in result.output


# --- configuration ---------------------------------------------------------------------------

GOOD = {
    "schedule": {"every": "15m", "jitter": "30s", "lease": "1m"},
    "sync": {"mass_vanish_share": 0.5, "confirm_vanish_limit": 20},
    "http": {"connect_timeout": 10, "read_timeout": 60, "max_retries": 4},
    "outbox": {"keep_delivered": "90d"},
}
# Were a mistake ever missed, the sync would go to a closed port, never off this machine.
SOURCE = {
    "name": "openai",
    "base_url": f"http://127.0.0.1:{closed_port()}/v1",
    "api_key_env": "K",
    "every": "1h",
    "verify_tls": True,
}
WRONG = st.one_of(
    st.just("soon"),
    st.just(-1),
    st.just(0),
    st.just(True),
    st.just([1, 2]),
    st.just({"a": 1}),
    st.just("x" * 300),
    st.just(1e400),
    st.just("1970-01-01"),
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == float("inf"):
        return "inf"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def toml(tables: dict[str, dict[str, Any]], sources: list[dict[str, Any]]) -> str:
    text = ""
    for name, table in tables.items():
        text += f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())
    for source in sources:
        text += "[[sources]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in source.items())
    return text


@st.composite
def broken_configs(draw: st.DrawFn) -> str | bytes:
    how = draw(st.sampled_from(["value", "unknown", "source", "syntax", "bytes", "twice"]))
    tables = {name: dict(table) for name, table in GOOD.items()}
    sources = [dict(SOURCE)]
    if how == "value":
        table = draw(st.sampled_from(sorted(tables)))
        key = draw(st.sampled_from(sorted(tables[table])))
        zero_ok = key in ("confirm_vanish_limit", "max_retries", "jitter")
        value = draw(WRONG.filter(lambda v: not (zero_ok and v == 0)))
        tables[table][key] = value
    elif how == "unknown":
        tables[draw(st.sampled_from(sorted(tables)))]["colour"] = "blue"
    elif how == "source":
        key = draw(
            st.sampled_from(
                ["name", "base_url", "every", "verify_tls", "headers", "ca_bundle", "kind"]
            )
        )
        sources[0][key] = draw(
            st.sampled_from(
                ["", "no spaces allowed", "ftp://x", -1, [1], {"a": 1}, "/nonexistent.pem"]
            )
        )
    elif how == "twice":
        sources.append(dict(SOURCE))
    text = toml(tables, sources)
    if how == "syntax":
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines)))
        broken = draw(
            st.sampled_from(
                [
                    '= "no key"\n',
                    "[[\n",
                    'key = "unclosed\n',
                    "\x00 = 1\n",
                    "[schedule]\n",
                    "every = 1 2\n",
                ]
            )
        )
        return "".join([*lines[:at], broken, *lines[at:]])
    if how == "bytes":
        return text.encode() + b"\n# \xff\xfe\n"
    return text


@settings(
    max_examples=EXAMPLES * 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(config=broken_configs())
def test_a_config_file_with_any_mistake_is_one_error_line_and_exit_2(
    tmp_path: Path, config: str | bytes
) -> None:
    path = tmp_path / "syncer.toml"
    path.write_bytes(config if isinstance(config, bytes) else config.encode())
    path.chmod(0o600)  # a config that holds a secret and is readable by others adds a warning
    database = tmp_path / f"never-{uuid.uuid4().hex[:8]}.db"

    result = CliRunner().invoke(
        cli,
        ["--config", str(path), "--database-url", f"sqlite:///{database}", "sync"],
        env={"K": API_KEY},
    )

    assert result.exit_code == 2, (config, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert str(path) in lines[0], lines[0]
    assert not database.exists()
