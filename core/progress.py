"""Logging, progress bars and stage status lines. Library code logs to ``logging.getLogger("tmsfield")``."""
from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import sys
import threading
import time

from tqdm.auto import tqdm

from .errors import TmsFieldError

log = logging.getLogger("tmsfield")

#: a stage shows its status line once it has run this long (s); shorter ones stay silent
STATUS_DELAY = 1.0
#: how often a shown status line updates its elapsed time (s)
STATUS_REFRESH = 0.25


class _TqdmHandler(logging.Handler):
    """Log records to the current ``sys.stderr`` through ``tqdm.write``, which clears and redraws
    any bar or status line around them instead of breaking it."""

    def emit(self, record):
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def _level(verbose: bool | str | int) -> int:
    """The logging level of a ``verbose`` value: True/"info", False/"warning", a name or a level."""
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, str):
        level = getattr(logging, verbose.upper(), None)
        if not isinstance(level, int):
            raise TmsFieldError(f"verbose must be True, False, a logging level or one of ('debug', 'info', "
                                f"'warning', 'error'), got {verbose!r}")
        return level
    return int(verbose)


def _add_handler() -> logging.Handler | None:
    """Give the package logger its stderr handler if it has none; returns the handler added."""
    if log.handlers:
        return None
    handler = _TqdmHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    log.addHandler(handler)
    return handler


def set_verbose(verbose: bool | str | int | None) -> None:
    """Set the package log level for good: True/"info", False/"warning", or a logging level.
    For the process (the CLI); library functions use :func:`verbose_scope` / :func:`scoped_verbose`."""
    if verbose is None:
        return
    log.setLevel(_level(verbose))
    _add_handler()


@contextlib.contextmanager
def verbose_scope(verbose: bool | str | int | None):
    """Within the ``with`` block the package logger has the level of ``verbose`` (see
    :func:`set_verbose`; None: unchanged); afterwards its level (and handlers) are as before."""
    if verbose is None:
        yield
        return
    level = _level(verbose)
    previous = log.level
    added = _add_handler()
    log.setLevel(level)
    try:
        yield
    finally:
        log.setLevel(previous)
        if added is not None:
            log.removeHandler(added)


def scoped_verbose(func):
    """Decorator (MNE's ``@verbose``): the call's ``verbose`` argument sets the package log level
    for that call only (:func:`verbose_scope`), restored when it returns or raises."""
    signature = inspect.signature(func)
    if "verbose" not in signature.parameters:
        raise TypeError(f"{func.__qualname__} has no verbose parameter")
    default = signature.parameters["verbose"].default

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "verbose" in kwargs:
            verbose = kwargs["verbose"]
        else:
            try:
                verbose = signature.bind_partial(*args, **kwargs).arguments.get("verbose", default)
            except TypeError:                 # let the call itself report the bad arguments
                verbose = None
        if verbose is inspect.Parameter.empty:
            verbose = None
        with verbose_scope(verbose):
            return func(*args, **kwargs)
    return wrapper


def progress(iterable=None, *, total=None, desc=None, verbose=True):
    """A tqdm progress bar that stays silent when ``verbose`` is False."""
    return tqdm(iterable, total=total, desc=desc, disable=not verbose, leave=False)


def stages_shown(verbose: bool | None = None) -> bool:
    """Whether :func:`timed` shows status lines: ``verbose`` if given, else whether the package
    logger is at INFO or more detailed (``set_verbose(True)``, the CLI without ``--quiet``)."""
    return log.isEnabledFor(logging.INFO) if verbose is None else bool(verbose)


@contextlib.contextmanager
def _status_line(stage: str, expected: float | None = None):
    """While the ``with`` block runs past :data:`STATUS_DELAY`, a stderr line "stage: 3.2 s"
    (with ``expected`` seconds: "stage: 3.2 s, ~12 s left") that a background thread updates
    every :data:`STATUS_REFRESH` s; cleared at the end."""
    start, done, shown = time.perf_counter(), threading.Event(), []

    def label():
        elapsed = time.perf_counter() - start
        if expected is None:
            return f"{stage}: {elapsed:.1f} s"
        left = expected - elapsed
        return f"{stage}: {elapsed:.1f} s, " + (f"~{left:.0f} s left" if left >= 1 else "finishing")

    def tick():
        if done.wait(STATUS_DELAY):
            return
        shown.append(tqdm(desc=label(), bar_format="{desc}", leave=False))
        while not done.wait(STATUS_REFRESH):
            shown[0].set_description_str(label())

    thread = threading.Thread(target=tick, name=f"tmsfield status: {stage}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        for line in shown:
            line.close()


@contextlib.contextmanager
def timed(timings: dict, stage: str, *, verbose: bool | None = None, expected: float | None = None):
    """Record the wall time of a ``with`` block in ``timings[stage]`` (seconds) and, where
    :func:`stages_shown` (``verbose``), show the stage on stderr while it runs over a second,
    with the time left when the stage's usual duration ``expected`` (s) is known."""
    t0 = time.perf_counter()
    try:
        with _status_line(stage, expected) if stages_shown(verbose) else contextlib.nullcontext():
            yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
        log.debug("%s: %.3f s", stage, timings[stage])
