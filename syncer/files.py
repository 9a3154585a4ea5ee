"""Writing a file the way a reader should find it: whole, and where the user asked.

``write_atomically`` puts the text in a temporary file beside the target and renames it
over the target, so a browser or a web server reading the old file never sees half of the
new one, and a symlink at the target is replaced, never written through (another user's
link in a shared directory cannot aim the write at a file of theirs).
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import suppress
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one rename.

    A regular file keeps its mode; a new file (or one that was a symlink) gets the mode a
    plain ``open`` would give it (0666 less the umask). Raises ``OSError`` as ``open`` does.
    """
    try:
        old = path.lstat()
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if old is not None and stat.S_ISREG(old.st_mode):
        mode = stat.S_IMODE(old.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
