"""syncer: an exact, queryable history of the models an OpenAI-compatible API key can use."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("syncer")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0"

__all__ = ["__version__"]
