"""Which files a scan reads: a walk that respects ``.gitignore`` and skips what is not code.

Each directory's ``.gitignore`` applies below it, a deeper one winning, as git does
(``pathspec`` does the matching, the walk only stacks the files); an ignored directory
is not entered. Inside a git repository, the repository's ``info/exclude`` applies under
the ``.gitignore`` files, and so do the ``.gitignore`` files of the directories between the
repository's root and the scanned one, their patterns matched from where they are, as git
matches them (the user's global ``core.excludesFile`` is not read). Skipped whatever the
ignore files say: ``.git`` and other VCS directories, ``node_modules``, virtual
environments (any directory with a ``pyvenv.cfg``), caches and build output, lock files,
files over ``MAX_BYTES``, and binary files (a NUL byte in the first 8 KiB).
``--include`` and ``--exclude`` are gitignore-style globs against the path from the
scanned directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

__all__ = [
    "MAX_BYTES",
    "SKIPPED_DIRS",
    "SKIPPED_FILES",
    "Walk",
    "read_text_file",
    "repository_root",
    "scan_base",
]

MAX_BYTES = 1 << 20
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        "site-packages",
        "build",
        "dist",
        ".next",
        ".nuxt",
        ".svelte-kit",
        "target",
        "coverage",
        "htmlcov",
        ".terraform",
        "bower_components",
        "vendor",
    }
)
SKIPPED_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "Cargo.lock",
        "composer.lock",
        "Gemfile.lock",
        "go.sum",
        "bun.lockb",
        "flake.lock",
        "packages.lock.json",
        ".syncer-scan.toml",
        # A worktree's or submodule's ``.git`` is a file naming the git directory.
        ".git",
    }
)
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


def repository_root(path: Path) -> Path | None:
    """The git repository holding ``path``: the nearest directory at or above it with a
    ``.git`` (a directory, or in a worktree or submodule a file naming one)."""
    here = path.resolve()
    if not here.is_dir():
        here = here.parent
    return next((d for d in (here, *here.parents) if (d / ".git").exists()), None)


def scan_base(start: Path) -> Path:
    """Where a scan of ``start`` (a directory, or a file) finds its waivers file, and what
    their path globs are relative to: the root of the git repository holding it; outside
    one, the current directory when ``start`` is in it, else ``start``'s directory."""
    top = repository_root(start)
    if top is not None:
        return top
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    cwd = Path.cwd().resolve()
    return cwd if here == cwd or cwd in here.parents else here


def _info_exclude(top: Path) -> Path:
    """``info/exclude`` of the repository at ``top``: in ``.git``, or for a worktree in the
    common directory its ``.git`` file leads to (``gitdir:``, then ``commondir``)."""
    git = top / ".git"
    if git.is_file():
        try:
            pointer = git.read_text(errors="replace").strip()
        except OSError:
            pointer = ""
        if pointer.startswith("gitdir:"):
            git = (top / pointer.removeprefix("gitdir:").strip()).resolve()
            common = git / "commondir"
            if common.is_file():
                git = (git / common.read_text(errors="replace").strip()).resolve()
    return git / "info" / "exclude"


def _spec(path: Path) -> GitIgnoreSpec | None:
    """The patterns of an ignore file, or None when there is none to read."""
    if not path.is_file():
        return None
    try:
        return GitIgnoreSpec.from_lines(path.read_text(errors="replace").splitlines())
    except OSError:
        return None


def _skipped_dir(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    return (
        name in SKIPPED_DIRS
        or name.endswith(".egg-info")
        or os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))
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
        # (directory relative to the repository's root, its spec), deepest last; outside a
        # repository, relative to ``root``. ``above`` is ``root`` relative to the same.
        specs: list[tuple[str, GitIgnoreSpec]] = []
        above = ""
        top = repository_root(root)
        if top is not None:
            above = root.resolve().relative_to(top).as_posix()
            above = "" if above == "." else above + "/"
            exclude = _spec(_info_exclude(top))
            if exclude is not None:
                specs.append(("", exclude))
            # The .gitignore files from the repository's root down to root's parent.
            parts = above.split("/")[:-1]
            for depth in range(len(parts)):
                base = "".join(f"{part}/" for part in parts[:depth])
                found = _spec(top / base / ".gitignore")
                if found is not None:
                    specs.append((base, found))

        def ignored(relative: str) -> bool:
            for base, spec in reversed(specs):
                if base and not relative.startswith(base):
                    continue
                result = spec.check_file(relative[len(base) :])
                if result.include is not None:
                    return bool(result.include)
            return False

        def visit(directory: Path, relative: str) -> Iterator[tuple[str, Path]]:
            pushed = False
            gitignore = _spec(directory / ".gitignore")
            if gitignore is not None:
                specs.append((above + relative, gitignore))
                pushed = True
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                entries = []
            for entry in entries:
                path = relative + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not _skipped_dir(entry) and not ignored(above + path + "/"):
                        yield from visit(Path(entry.path), path + "/")
                elif entry.is_file(follow_symlinks=False):
                    if _skipped_file(entry.name) or ignored(above + path) or not self._wanted(path):
                        continue
                    file = Path(entry.path)
                    if self.skip and file.resolve() in self.skip:
                        continue
                    yield (root / path).as_posix() if root != Path(".") else path, file
            if pushed:
                specs.pop()

        yield from visit(root, "")
