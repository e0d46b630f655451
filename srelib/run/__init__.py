"""Layer 5, run: publishing reports, one at a time, in batches, and on a schedule.

``catalogue`` (the ReportSpec catalogue and its fan-out), ``report`` (one papermill run,
published atomically), ``batch`` and ``executors`` (many runs on local processes or dask),
``kernels``, ``summary_cache``, ``schedule`` and ``daemon``, ``progress``, ``history``,
``notify`` (e-mail and webhooks) and ``scaffold`` (``srelib init``, ``srelib new-report``).
See ``docs/architecture.md``.
"""
