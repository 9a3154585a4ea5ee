"""A benchmark of syncer against a hand-written sync: ``python tests/benchmarks/bench_sync.py``."""
