"""Benchmark: ``syncer scan`` over a generated tree of 10,000 files / 100 MB.

    python tests/benchmarks/bench_scan.py [--files 10000] [--megabytes 100] [--ids 2000]

The tree mixes Python, TypeScript, YAML, JSON and Markdown files of ordinary code (about
10 KB each), with a model id in one line of fifty (a tenth of them ids no source lists);
the inventory is a snapshot of ``--ids`` ids over three sources. The scan runs as a user
runs it (``syncer scan --inventory FILE``, a new process), once to warm the page cache and
then three times; the median wall and CPU times are printed (CPU time is what a busy
machine does not inflate), with the findings' count. Not collected
by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

CODE = {
    ".py": (
        "def handle_{n}(request, context):\n    result = client.chat.completions.create("
        'messages=request.messages, temperature=0.{d})\n    return {{"status": "ok", '
        '"value": compute_value(result.choices[0])}}\n'
    ),
    ".ts": (
        "export async function handle{n}(req: Request): Promise<Response> {{\n  const r ="
        " await api.fetch(req.url, {{ method: 'POST', body: JSON.stringify(req.body) }});\n"
        "  return new Response(r.body, {{ status: {d}00 }});\n}}\n"
    ),
    ".yaml": (
        "service_{n}:\n  replicas: {d}\n  image: registry.local/app:{n}\n  env:\n    - LOG=info\n"
    ),
    ".json": '{{"id": {n}, "name": "item-{n}", "tags": ["a", "b"], "enabled": true, "w": {d}}}\n',
    ".md": (
        "## Section {n}\n\nThis paragraph explains the behaviour of component {n} and its "
        "{d} settings in plain words.\n\n"
    ),
}
USE = {
    ".py": 'MODEL_{n} = "{id}"\n',
    ".ts": "const model{n} = '{id}';\n",
    ".yaml": "model: {id}\n",
    ".json": '{{"model": "{id}"}}\n',
    ".md": "We call `{id}` here.\n",
}


def write_tree(root: Path, files: int, megabytes: int, ids: list[str]) -> None:
    rng = random.Random(22)
    size = megabytes * 1_000_000 // files
    kinds = list(CODE)
    for index in range(files):
        suffix = kinds[index % len(kinds)]
        lines: list[str] = []
        total = n = 0
        while total < size:
            n += 1
            if n % 50 == 0:
                model = rng.choice(ids) if rng.random() > 0.1 else f"gpt-{rng.randint(6, 9)}-x{n}"
                line = USE[suffix].format(n=n, id=model)
            else:
                line = CODE[suffix].format(n=n, d=rng.randint(1, 9))
            lines.append(line)
            total += len(line)
        folder = root / f"pkg{index // 100:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"module{index:05d}{suffix}").write_text("".join(lines))


def inventory(ids: list[str]) -> dict[str, object]:
    when = "2026-01-01T00:00:00.000000Z"
    return {
        "format": "syncer-inventory",
        "version": 1,
        "exported_at": when,
        "sources": [{"name": s, "listed_at": when} for s in ("openai", "azure", "openrouter")],
        "models": [
            {
                "source": ("openai", "azure", "openrouter")[i % 3],
                "model_id": model_id,
                "first_seen_at": when,
                "last_seen_at": when,
                "vanished_at": when if i % 7 == 0 else None,
                "shutdown_at": "2027-01-01T00:00:00.000000Z" if i % 11 == 0 else None,
                "shutdown_origin": "provider" if i % 11 == 0 else None,
                "replacement": None,
                "lifecycle_status": None,
            }
            for i, model_id in enumerate(ids)
        ],
        "deprecations": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--ids", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ids = [
        f"gpt-4o-2025-{i:05d}" if i % 2 else f"ft:gpt-4o-mini:acme::{i:08x}"
        for i in range(args.ids)
    ] + ["gpt-4o", "gpt-4", "claude-3-5-sonnet-20240620", "o3"]
    with TemporaryDirectory() as directory:
        root = Path(directory) / "tree"
        root.mkdir()
        started = time.perf_counter()
        write_tree(root, args.files, args.megabytes, ids)
        written = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        print(
            f"tree: {args.files} files, {written / 1e6:.0f} MB, written in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        snapshot = Path(directory) / "inventory.json"
        snapshot.write_text(json.dumps(inventory(ids)))
        command = [
            sys.executable,
            "-m",
            "syncer",
            "scan",
            str(root),
            "--inventory",
            str(snapshot),
            "--format",
            "json",
            "--fail-on",
            "vanished",
        ]
        times = []
        cpu = []
        found = 0
        for attempt in range(args.repeat + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, check=False)
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if result.returncode not in (0, 1):
                sys.exit(result.stderr.decode())
            found = len(json.loads(result.stdout)["findings"])
            if attempt:  # the first run warms the page cache
                times.append(elapsed)
                cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        print(
            f"syncer scan: {statistics.median(times):.2f} s wall, "
            f"{statistics.median(cpu):.2f} s CPU (median of {len(times)}; {found} findings, "
            f"{len(ids)} ids in the inventory)"
        )


if __name__ == "__main__":
    main()
