"""Optional dependencies (extras): checked before long work starts, imported where used.

>>> require("numpy", extra="test", purpose="arrays").__name__
'numpy'
"""
from __future__ import annotations

import importlib
import importlib.util

from .errors import TmsFieldError


def _missing(module: str, extra: str, purpose: str) -> TmsFieldError:
    return TmsFieldError(f"{purpose} needs {module}, which is not installed: pip install 'tmsfield[{extra}]'")


def check_available(module: str, *, extra: str, purpose: str) -> None:
    """Raise TmsFieldError naming the extra to install if ``module`` cannot be imported;
    imports nothing (cheap enough to call before a solve)."""
    if importlib.util.find_spec(module) is None:
        raise _missing(module, extra, purpose)


def require(module: str, *, extra: str, purpose: str):
    """Import and return the optional ``module``, or raise TmsFieldError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise _missing(module, extra, purpose) from None
