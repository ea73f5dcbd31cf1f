"""Logging and progress bars. Library code logs to ``logging.getLogger("tmsfield")``."""
from __future__ import annotations

import contextlib
import logging
import time

from tqdm.auto import tqdm

log = logging.getLogger("tmsfield")


def set_verbose(verbose: bool | str | int | None) -> None:
    """Set the package log level: True/"info", False/"warning", or a logging level."""
    if verbose is None:
        return
    if isinstance(verbose, bool):
        level = logging.INFO if verbose else logging.WARNING
    elif isinstance(verbose, str):
        level = getattr(logging, verbose.upper())
    else:
        level = int(verbose)
    log.setLevel(level)
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        log.addHandler(handler)


def progress(iterable=None, *, total=None, desc=None, verbose=True):
    """A tqdm progress bar that stays silent when ``verbose`` is False."""
    return tqdm(iterable, total=total, desc=desc, disable=not verbose, leave=False)


@contextlib.contextmanager
def timed(timings: dict, stage: str):
    """Record the wall time of a ``with`` block in ``timings[stage]`` (seconds)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
        log.debug("%s: %.3f s", stage, timings[stage])
