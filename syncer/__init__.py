"""syncer: an exact, queryable history of the models an OpenAI-compatible API key can use."""

from typing import Any

__all__ = ["DISTRIBUTION", "__version__"]

#: The name syncer is installed under (`pip install model-syncer`): `syncer` on the package
#: index is an unrelated library. The import package and the command stay `syncer`.
DISTRIBUTION = "model-syncer"


def __getattr__(name: str) -> Any:
    """``__version__`` on demand: reading package metadata costs every command's start-up
    about as much as the rest of ``syncer --help``."""
    if name != "__version__":
        raise AttributeError(f"module 'syncer' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"
