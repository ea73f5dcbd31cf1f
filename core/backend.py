"""Array backend selection: numpy/scipy on the CPU, cupy on a GPU, or the strict device
emulation of :mod:`tmsfield.core.emulation` (numpy behind cupy's rules, for tests).

The backend is decided at call time, never at import; ``cupy`` is imported only here.
Kernels take a :class:`Backend` and use only ``be.xp`` / ``be.sparse`` calls, or find the
backend of the arrays they are given with :func:`backend_of` (as PyLops' ``get_array_module``).
"""
from __future__ import annotations

import dataclasses
import functools
import logging
from types import ModuleType

import numpy as np

from .checks import check_choice
from .errors import BackendError

log = logging.getLogger("tmsfield")

BACKEND_NAMES = ("auto", "cpu", "gpu")


@dataclasses.dataclass(frozen=True)
class Backend:
    """Array namespace plus matching sparse modules.

    Attributes: ``name`` ("cpu"|"gpu"|"emulated"), ``xp`` (numpy, cupy or the emulation),
    ``sparse`` (scipy.sparse, cupyx.scipy.sparse, ...), ``splinalg`` (their ``linalg``).
    """
    name: str
    xp: ModuleType
    sparse: ModuleType
    splinalg: ModuleType

    def asarray(self, a, dtype=None):
        """Move ``a`` onto this backend's device."""
        return self.xp.asarray(a, dtype=dtype)

    @property
    def on_device(self) -> bool:
        """True when arrays live apart from numpy's (a GPU, or its emulation)."""
        return self.name != "cpu"

    def to_numpy(self, a) -> np.ndarray:
        """Return ``a`` as a numpy array (copies from the device if needed)."""
        if self.on_device:
            return self.xp.asnumpy(a)
        return np.asarray(a)

    def sparse_to_host(self, matrix):
        """A scipy.sparse copy of a sparse matrix of this backend."""
        return matrix.get() if self.on_device else matrix


@functools.lru_cache(maxsize=1)
def _cpu() -> Backend:
    import scipy.sparse
    import scipy.sparse.linalg
    return Backend("cpu", np, scipy.sparse, scipy.sparse.linalg)


@functools.lru_cache(maxsize=1)
def _gpu_or_reason() -> Backend | str:
    try:
        import cupy
        import cupyx.scipy.sparse
        import cupyx.scipy.sparse.linalg
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "cupy found no CUDA device"
        cupy.zeros(1).sum()  # the device answers
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable GPU"
        return f"{type(exc).__name__}: {exc}"
    return Backend("gpu", cupy, cupyx.scipy.sparse, cupyx.scipy.sparse.linalg)


@functools.lru_cache(maxsize=1)
def emulated_backend() -> Backend:
    """The strict device emulation (:mod:`tmsfield.core.emulation`): numpy arithmetic behind
    arrays that refuse implicit host/device mixing as cupy's do. For tests on machines
    without a GPU; not faster than the CPU backend."""
    from . import emulation
    return Backend("emulated", emulation.xp, emulation.sparse, emulation.splinalg)


def backend_of(*arrays) -> Backend:
    """The backend whose arrays these are: the GPU's for cupy arrays, the emulation's for its
    DeviceArrays, else the CPU's (numpy arrays, scalars, lists)."""
    for a in arrays:
        module = type(a).__module__
        if module.startswith("cupy"):
            gpu = _gpu_or_reason()
            if isinstance(gpu, Backend):
                return gpu
        if module == "tmsfield.core.emulation":
            return emulated_backend()
    return _cpu()


def gpu_available() -> bool:
    """True when cupy imports and a CUDA device answers."""
    return isinstance(_gpu_or_reason(), Backend)


def get_backend(name: str | Backend = "auto") -> Backend:
    """Return the backend for ``name`` in ``("auto", "cpu", "gpu")``.

    ``auto`` uses the GPU when available and otherwise logs once (INFO) and uses the CPU;
    ``gpu`` raises :class:`~tmsfield.core.errors.BackendError` (a RuntimeError) with the reason
    when no GPU is usable. A Backend
    (e.g. :func:`emulated_backend`) is returned as it is.
    """
    if isinstance(name, Backend):
        return name
    check_choice(name, BACKEND_NAMES, "backend", error=ValueError)
    if name == "cpu":
        return _cpu()
    gpu = _gpu_or_reason()
    if isinstance(gpu, Backend):
        return gpu
    if name == "gpu":
        raise BackendError(f"backend='gpu' requested but no GPU is usable ({gpu}); install tmsfield[gpu] "
                           "(CUDA 13; tmsfield[gpu-cuda12] for CUDA 12) on a machine with a CUDA device, or use "
                           "backend='auto'")
    _log_cpu_fallback(gpu)
    return _cpu()


@functools.lru_cache(maxsize=1)
def _log_cpu_fallback(reason: str) -> None:
    quiet = "cupy is not installed" if reason.startswith("ModuleNotFoundError") else reason
    log.info("backend='auto': numpy/scipy on the CPU (%s)", quiet)
