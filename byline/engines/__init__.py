"""Batch scanning: folders and data files on one machine (``byline scan``).

    from byline.interfaces.batch import scan
    summary = scan("wire/", "results.parquet")
    summary.total, summary.failed, summary.exit_code

Modules, in the order data passes through them: ``sources`` (enumerate and
read inputs), ``workers`` and ``scoring`` (batched scoring in worker
processes), ``job_store`` (finished inputs, for resuming), ``writers``
(.jsonl, .csv, .parquet), ``runner`` (the local engine), ``command`` (the CLI).
"""

from byline.interfaces.batch.runner import EXIT_CODES, ScanSummary, scan

__all__ = ["EXIT_CODES", "ScanSummary", "scan"]
