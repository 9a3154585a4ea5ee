"""Which files a scan reads: a walk that respects ``.gitignore`` and skips what is not code.

Each directory's ``.gitignore`` applies below it, a deeper one winning, as git does
(``pathspec`` does the matching, the walk only stacks the files); an ignored directory
is not entered. Skipped whatever the ignore files say: ``.git`` and other VCS
directories, ``node_modules``, virtual environments (any directory with a
``pyvenv.cfg``), caches and build output, lock files, files over ``MAX_BYTES``, and
binary files (a NUL byte in the first 8 KiB). ``--include`` and ``--exclude`` are
gitignore-style globs against the path from the scanned directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

__all__ = ["MAX_BYTES", "SKIPPED_DIRS", "SKIPPED_FILES", "Walk", "read_text_file"]

MAX_BYTES = 1 << 20
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages", "build", "dist",
    ".next", ".nuxt", ".svelte-kit", "target", "coverage", "htmlcov", ".terraform",
    "bower_components", "vendor",
})
SKIPPED_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
    "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "composer.lock", "Gemfile.lock",
    "go.sum", "bun.lockb", "flake.lock", "packages.lock.json", ".syncer-scan.toml",
})
_SNIFF = 8192


def read_text_file(path: Path) -> bytes | None:
    """A file's bytes, or None when it is too big, binary or cannot be read."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES or b"\0" in data[:_SNIFF]:
        return None
    return data


def _skipped_dir(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    return name in SKIPPED_DIRS or name.endswith(".egg-info") or os.path.exists(
        os.path.join(entry.path, "pyvenv.cfg")
    )


def _skipped_file(name: str) -> bool:
    return name in SKIPPED_FILES or name.endswith(".lock")


@dataclass
class Walk:
    """The files under some paths, as (shown path, path) pairs; ``skip`` are paths never
    read (the inventory file, the output)."""

    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    skip: frozenset[Path] = frozenset()
    _include: GitIgnoreSpec | None = field(init=False, default=None)
    _exclude: GitIgnoreSpec | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.include:
            self._include = GitIgnoreSpec.from_lines(self.include)
        if self.exclude:
            self._exclude = GitIgnoreSpec.from_lines(self.exclude)

    def files(self, paths: Sequence[Path]) -> Iterator[tuple[str, Path]]:
        for root in paths:
            if root.is_dir():
                yield from self._tree(root)
            elif root.resolve() not in self.skip and not _skipped_file(root.name):
                # A file named on the command line (pre-commit passes the staged ones) is
                # read whatever the ignore files say, but not if it is a lock file.
                yield root.as_posix(), root

    def _wanted(self, relative: str) -> bool:
        if self._include is not None and not self._include.match_file(relative):
            return False
        return self._exclude is None or not self._exclude.match_file(relative)

    def _tree(self, root: Path) -> Iterator[tuple[str, Path]]:
        # (directory relative to root, its spec), deepest last.
        specs: list[tuple[str, GitIgnoreSpec]] = []

        def ignored(relative: str) -> bool:
            for base, spec in reversed(specs):
                if base and not relative.startswith(base):
                    continue
                result = spec.check_file(relative[len(base):])
                if result.include is not None:
                    return bool(result.include)
            return False

        def visit(directory: Path, relative: str) -> Iterator[tuple[str, Path]]:
            pushed = False
            gitignore = directory / ".gitignore"
            if gitignore.is_file():
                try:
                    lines = gitignore.read_text(errors="replace").splitlines()
                except OSError:
                    lines = []
                specs.append((relative, GitIgnoreSpec.from_lines(lines)))
                pushed = True
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                entries = []
            for entry in entries:
                path = relative + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not _skipped_dir(entry) and not ignored(path + "/"):
                        yield from visit(Path(entry.path), path + "/")
                elif entry.is_file(follow_symlinks=False):
                    if _skipped_file(entry.name) or ignored(path) or not self._wanted(path):
                        continue
                    file = Path(entry.path)
                    if self.skip and file.resolve() in self.skip:
                        continue
                    yield (root / path).as_posix() if root != Path(".") else path, file
            if pushed:
                specs.pop()

        yield from visit(root, "")
