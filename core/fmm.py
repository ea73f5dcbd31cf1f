"""The one wrapper of fmm3dpy's Laplace FMM: its kernel normalisation measured, its error code checked.

fmm3dpy's Laplace kernel has been documented both as 1/r and as 1/(4πr) across versions;
:func:`kernel_scale` measures it once against the direct formula instead of trusting either.
fmm3dpy reports failures (e.g. memory running short) only through an error code ``ier`` and
returns zeros: :func:`lfmm3d` turns a non-zero code, or a non-finite output, into an error.
"""
from __future__ import annotations

import functools

import numpy as np

from .errors import TmsFieldError


def lfmm3d(**arguments):
    """``fmm3dpy.lfmm3d(**arguments)`` (sources and targets (3, n), its own keyword names),
    raising :class:`TmsFieldError` when the library reports an error or returns non-finite
    potentials or gradients. Values are in fmm3dpy's normalisation (see :func:`kernel_scale`)."""
    import fmm3dpy
    out = fmm3dpy.lfmm3d(**arguments)
    sizes = f"{np.shape(arguments['sources'])[-1]} sources, " + (
        f"{np.shape(arguments['targets'])[-1]} targets" if arguments.get("targets") is not None else "no targets")
    if int(getattr(out, "ier", 0) or 0) != 0:
        raise TmsFieldError(f"the FMM (fmm3dpy) failed with error code {out.ier} ({sizes}, eps "
                            f"{arguments.get('eps')}): usually memory ran short; free memory, evaluate fewer "
                            "points at a time, or use method='direct'")
    for name in ("pot", "grad", "pottarg", "gradtarg"):
        values = getattr(out, name, None)
        if values is not None and not np.isfinite(values).all():
            raise TmsFieldError(f"the FMM (fmm3dpy) returned non-finite values ({sizes}): check the source "
                                "strengths (dI/dt) and positions for NaN or overflow")
    return out


@functools.lru_cache(maxsize=1)
def kernel_scale() -> float:
    """Potential fmm3dpy returns for a unit charge at unit distance (1 or 1/(4π))."""
    out = lfmm3d(eps=1e-12, sources=np.zeros((3, 1)), charges=np.ones(1),
                 targets=np.array([[1.0], [0.0], [0.0]]), pgt=1)
    return float(np.ravel(out.pottarg)[0])
