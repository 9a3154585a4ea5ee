"""A real tree of files using model ids as code does, and an inventory synced for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakes import FakeProvider

TODAY = datetime.now(UTC).date()

#: path -> content: each id's verdict is in the tests that read this tree.
TREE: dict[str, str | bytes] = {
    "app/chat.py": (
        "from openai import OpenAI\n"
        "client = OpenAI()\n"
        'reply = client.chat.completions.create(model="gpt-4-32k", messages=[])\n'
        'LEGACY = "text-davinci-003"  # still here\n'
        "# We moved from gpt-4o-mini.\n"
        'label = f"{prefix}-gpt-4o"\n'
        "model_name = f\"openai/{'gpt-4o'}\"\n"
    ),
    "web/client.ts": (
        "const reply = await openai.chat.completions.create({ model: 'gpt-4o', messages });\n"
        'const typo = "gpt-4o-mnii";\n'
    ),
    "deploy/config.yaml": "llm:\n  model: text-davinci-003\n  fallback: gpt-4o\n",
    "settings.toml": '[llm]\nmodel = "gpt-4-32k"\n',
    ".env": "OPENAI_MODEL=gpt-4o\nEMBEDDINGS=text-embedding-ada-002\n",
    "models.json": '{"default": "gpt-4o", "embedding": "text-embedding-ada-002"}\n',
    "README.md": (
        "# Notes\n\nUse gpt-4o. The gpt-4ish models and my-gpt-4o are not ids; "
        "neither is gpt-4o_x.\nSay `claude-opus-9` to mean a model nobody lists.\n"
    ),
    "logo.png": b"\x89PNG\r\n\x1a\n\0\0gpt-4-32k\0",
    "package-lock.json": '{"name": "gpt-4-32k"}\n',
    "node_modules/sdk/index.js": 'const m = "gpt-4-32k";\n',
    ".gitignore": "generated/\n*.log\n",
    "generated/out.py": 'M = "gpt-4-32k"\n',
    "debug.log": "gpt-4-32k\n",
    "nested/.gitignore": "!keep.log\n",
    "nested/keep.log": "model=gpt-4-32k\n",
    "big.txt": "gpt-4-32k\n" + "x" * (1 << 20),
    "static/min.js": "var a=" + '"gpt-' * 150_000 + '";var m="gpt-4o";\n',
}

#: Each finding of the tree: (path, line, text as written, verdict).
FOUND = [
    ("app/chat.py", 3, "gpt-4-32k", "shutting-down"),
    ("app/chat.py", 4, "text-davinci-003", "vanished"),
    ("app/chat.py", 5, "gpt-4o-mini", "ok"),
    ("app/chat.py", 7, "gpt-4o", "ok"),
    ("web/client.ts", 1, "gpt-4o", "ok"),
    ("web/client.ts", 2, "gpt-4o-mnii", "not-listed"),
    ("deploy/config.yaml", 2, "text-davinci-003", "vanished"),
    ("deploy/config.yaml", 3, "gpt-4o", "ok"),
    ("settings.toml", 2, "gpt-4-32k", "shutting-down"),
    (".env", 1, "gpt-4o", "ok"),
    (".env", 2, "text-embedding-ada-002", "shutting-down"),
    ("models.json", 1, "gpt-4o", "ok"),
    ("models.json", 1, "text-embedding-ada-002", "shutting-down"),
    ("README.md", 3, "gpt-4o", "ok"),
    ("README.md", 4, "claude-opus-9", "not-listed"),
    ("nested/keep.log", 1, "gpt-4-32k", "shutting-down"),
    ("static/min.js", 1, "gpt-4o", "ok"),
]


def column(path: str, line: int, text: str) -> int:
    """Where ``text`` is on that line of the tree, counted from 1 (its last occurrence)."""
    content = TREE[path]
    assert isinstance(content, str)
    written = content.splitlines()[line - 1]
    return written.rindex(text) + 1 if path == "static/min.js" else written.index(text) + 1


#: (path, line, column, text, verdict) of every finding.
EXPECTED = {(p, n, column(p, n, t), t, v) for p, n, t, v in FOUND}


def write_tree(root: Path, tree: dict[str, str | bytes] = TREE) -> Path:
    for name, content in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo")


@pytest.fixture
def synced(invoke: Callable[..., Result], provider: FakeProvider, tmp_path: Path) -> None:
    """openai lists five models: ``gpt-4-32k`` with a shutdown date 10 days out,
    ``text-embedding-ada-002`` with an imported one 200 days out (replacement named), and
    ``text-davinci-003`` vanished."""
    provider.set(
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4-32k",
        "text-embedding-ada-002",
        "text-davinci-003",
        "whisper-1",
        "tts-1",
        "dall-e-3",
        "babbage-002",
    )
    provider.models[2]["shutdown_date"] = str(TODAY + timedelta(days=10))
    assert invoke("sync").exit_code == 0
    provider.models = [m for m in provider.models if m["id"] != "text-davinci-003"]
    assert invoke("sync").exit_code == 0
    dates = tmp_path / "deps.csv"
    dates.write_text(
        "model,shutdown_date,replacement\n"
        f"text-embedding-ada-002,{TODAY + timedelta(days=200)},"
        "text-embedding-3-small\n"
    )
    assert invoke("deprecations", "import", str(dates)).exit_code == 0
