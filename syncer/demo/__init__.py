"""``syncer demo``: a recorded provider history replayed through the real code, offline."""

from syncer.demo.run import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
