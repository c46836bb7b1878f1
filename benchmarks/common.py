"""What the benchmark scripts share: the machine line and percentiles."""

from __future__ import annotations

import os
import platform


def machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(spent: dict[str, float], name: str, fn):
    """``fn`` (a coroutine function) adding the seconds each call takes to ``spent[name]``: a
    benchmark's share of time per stage."""
    import functools
    import time

    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start

    return wrapper
