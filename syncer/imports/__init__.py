"""Files of shutdown dates imported from a URL or a path, once or on a schedule.

``plan`` decides (pure): which validators make a fetch conditional, whether a document is
the one applied last, what an attempt's outcome says. ``fetch`` gets the document (over the
provider HTTP client, with its timeouts, retries, size cap and deadline), ``store`` reads
and writes ``import_runs``, and ``run`` does one import: fetch, parse, apply in one
transaction with its record, or record the failure and keep the last good import.
"""

__all__: list[str] = []
