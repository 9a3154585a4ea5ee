"""The walk inside a real git repository (``git init``, ``git worktree add``): its
``info/exclude`` and the ``.gitignore`` files above a scanned subdirectory apply as git
applies them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from syncer.scan.walk import Walk, repository_root, scan_base


def git(where: Path, *args: str) -> None:
    settings = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", *settings, *args], cwd=where, check=True, capture_output=True)


def files(root: Path) -> list[str]:
    return sorted(Path(shown).relative_to(root).as_posix() for shown, _ in Walk().files([root]))


def write(root: Path, tree: dict[str, str]) -> None:
    for name, content in tree.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)


def test_the_repositorys_info_exclude_applies_under_its_gitignore_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".git" / "info" / "exclude").write_text("drafts/\n*.tmp\n")
    write(
        repo,
        {
            "app.py": "m = 'gpt-4o'\n",
            "drafts/x.py": "m = 'gpt-4-32k'\n",
            "a.tmp": "gpt-4o\n",
            # A .gitignore wins over info/exclude, as in git.
            ".gitignore": "!keep.tmp\n",
            "keep.tmp": "gpt-4o\n",
        },
    )

    assert files(repo) == [".gitignore", "app.py", "keep.tmp"]
    assert repository_root(repo / "drafts") == repo.resolve()


def test_a_subdirectory_scan_honours_the_ignore_files_above_it(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".git" / "info" / "exclude").write_text("/service/drafts/\n")
    write(
        repo,
        {
            ".gitignore": "*.log\n",
            "service/.gitignore": "!keep.log\n",
            "service/app.py": "m = 'gpt-4o'\n",
            "service/debug.log": "gpt-4o\n",
            "service/keep.log": "gpt-4o\n",
            "service/drafts/x.py": "m = 'gpt-4-32k'\n",
        },
    )

    assert files(repo / "service") == [".gitignore", "app.py", "keep.log"]


def test_a_worktree_reads_the_exclude_file_of_its_common_directory(tmp_path: Path) -> None:
    repo, worktree = tmp_path / "repo", tmp_path / "wt"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    git(repo, "worktree", "add", "-q", "--detach", str(worktree))
    (repo / ".git" / "info" / "exclude").write_text("drafts/\n")
    write(worktree, {"app.py": "m = 'gpt-4o'\n", "drafts/x.py": "m = 'gpt-4-32k'\n"})

    assert (worktree / ".git").is_file()
    assert files(worktree) == ["app.py"]
    assert scan_base(worktree / "drafts") == worktree.resolve()
