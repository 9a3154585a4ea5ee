"""Start-up: how long ``syncer --help`` and a read command take, as fresh processes.

Measured as a ratio against ``python -c "import sqlalchemy"`` on the same machine in the same
run, the floor of any command that reads the database through SQLAlchemy. The read commands
run on an existing SQLite database (one sync of a small list, made untimed first). Each
command runs ``repeat`` times, interleaved with the others after one untimed warm-up round,
and the median counts.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from tests.benchmarks.children import Provider, child_env, measure, scratch_database
from tests.benchmarks.whole_process import API_KEY, checked

__all__ = ["BASELINE", "MODELS", "run"]

BASELINE = 'python -c "import sqlalchemy"'
#: The size of the existing database's one source.
MODELS = 100


def run(
    server: Provider, syncer: list[str], repeat: int, workdir: Path, warmup: int = 1
) -> dict[str, float]:
    """Median seconds per command, the baseline first."""
    with scratch_database("sqlite", "", workdir) as database:
        env = child_env(
            database.url, OPENAI_BASE_URL=server.url(f"a{MODELS}"), OPENAI_API_KEY=API_KEY
        )
        checked(measure([*syncer, "sync"], env), "the start-up database's sync")
        commands = {
            BASELINE: [sys.executable, "-c", "import sqlalchemy"],
            "syncer --help": [*syncer, "--help"],
            "syncer models": [*syncer, "models"],
            "syncer runs": [*syncer, "runs"],
        }
        print(f"start-up: {len(commands)} commands x {repeat} ...", file=sys.stderr, flush=True)
        seconds: dict[str, list[float]] = {label: [] for label in commands}
        for round_ in range(warmup + repeat):
            for label, argv in commands.items():
                result = checked(measure(argv, env, timeout=120), label)
                if round_ >= warmup:
                    seconds[label].append(result.seconds)
    return {label: statistics.median(values) for label, values in seconds.items()}
