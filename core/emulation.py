"""A strict device-emulation backend: numpy/scipy behind arrays that behave like cupy's.

cupy arrays live on the GPU: numpy refuses to convert them implicitly, cupy functions refuse
numpy arrays, and mixing the two in arithmetic raises. Code that forgets a transfer therefore
works on the CPU and fails on a GPU. This backend makes that mistake fail on any machine:

- :class:`DeviceArray` wraps an ndarray; ``np.asarray(a)`` and numpy functions on it raise
  TypeError, so does arithmetic or indexing with a numpy array; ``get()`` / ``xp.asnumpy``
  are the explicit transfers back.
- :data:`xp` mirrors numpy: ``xp.asarray``/``xp.array`` accept numpy (the host → device
  copy), every other function refuses numpy arrays and returns DeviceArrays.
- :data:`sparse` and :data:`splinalg` mirror the few scipy.sparse entry points the solvers
  use, with the same rules (cupyx.scipy.sparse accepts a scipy matrix as the host → device copy).

It checks transfers, not speed: the arithmetic is numpy's, so results equal the CPU backend's
bit for bit where the operations are the same. It does not check that every numpy function
called also exists in cupy.

>>> import numpy as np
>>> a = xp.asarray(np.arange(3.0))
>>> float((a * 2).sum())
6.0
>>> np.asarray(a)
Traceback (most recent call last):
...
TypeError: Implicit conversion to a NumPy array is not allowed (device emulation, as cupy): use .get() or xp.asnumpy()
"""
from __future__ import annotations

import functools
import operator
from types import ModuleType

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed (device emulation, as cupy): "
            "use .get() or xp.asnumpy()")


def _refuse(what: str):
    raise TypeError(f"{what}: a numpy array reached device code (device emulation, as cupy refuses "
                    "host arrays); move it with be.asarray() first")


def _unwrap(value, what: str):
    """The ndarray inside DeviceArrays (recursively in lists, tuples, dicts); numpy arrays refused."""
    if isinstance(value, (DeviceArray, DeviceSparse)):
        return value._data
    if isinstance(value, np.ndarray):
        _refuse(what)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_unwrap(v, what) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v, what) for k, v in value.items()}
    return value


def _wrap(value):
    """DeviceArrays for the ndarrays (and numpy scalars, as cupy returns 0-d arrays) in ``value``."""
    if isinstance(value, (np.ndarray, np.generic)):
        return DeviceArray(np.asarray(value))
    if scipy.sparse.issparse(value):
        return DeviceSparse(value)
    if isinstance(value, tuple):
        items = [_wrap(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _binary(op, reflected=False):
    def method(self, other):
        other = _unwrap(other, f"{type(self).__name__} {op.__name__}")
        return _wrap(op(other, self._data) if reflected else op(self._data, other))
    return method


def _inplace(op):
    def method(self, other):
        self._data = op(self._data, _unwrap(other, f"DeviceArray {op.__name__}"))
        return self
    return method


def _method(name):
    def method(self, *args, **kwargs):
        what = f"{type(self).__name__}.{name}"
        return _wrap(getattr(self._data, name)(*_unwrap(args, what), **_unwrap(kwargs, what)))
    method.__name__ = name
    return method


class DeviceArray:
    """An ndarray "on the device": like a cupy array, never converted to numpy implicitly."""

    __slots__ = ("_data",)
    #: numpy ufuncs and operators on (ndarray, DeviceArray) defer to this class, which refuses
    __array_ufunc__ = None

    def __init__(self, data: np.ndarray):
        self._data = data

    def __array__(self, *args, **kwargs):
        raise TypeError(IMPLICIT)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} on a device array: {IMPLICIT}")

    def get(self) -> np.ndarray:
        """Copy to the host (as cupy's ``ndarray.get``)."""
        return self._data.copy()

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    dtype = property(lambda self: self._data.dtype)
    nbytes = property(lambda self: self._data.nbytes)
    T = property(lambda self: DeviceArray(self._data.T))
    real = property(lambda self: DeviceArray(self._data.real))
    imag = property(lambda self: DeviceArray(self._data.imag))

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return (_wrap(row) for row in self._data)

    def __repr__(self):
        return f"DeviceArray({self._data!r})"

    def __getitem__(self, key):
        return _wrap(self._data[_unwrap(key, "DeviceArray index")])

    def __setitem__(self, key, value):
        self._data[_unwrap(key, "DeviceArray index")] = _unwrap(value, "DeviceArray assignment")

    def __float__(self):
        return float(self._data)

    def __int__(self):
        return int(self._data)

    def __bool__(self):
        return bool(self._data)

    def __neg__(self):
        return DeviceArray(-self._data)

    def __pos__(self):
        return self

    def __abs__(self):
        return DeviceArray(np.abs(self._data))

    def __invert__(self):
        return DeviceArray(~self._data)


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("mod", operator.mod),
                   ("pow", operator.pow), ("matmul", operator.matmul), ("and", operator.and_),
                   ("or", operator.or_), ("xor", operator.xor)]:
    setattr(DeviceArray, f"__{_name}__", _binary(_op))
    setattr(DeviceArray, f"__r{_name}__", _binary(_op, reflected=True))
    setattr(DeviceArray, f"__i{_name}__", _inplace(_op))
for _name, _op in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge),
                   ("eq", operator.eq), ("ne", operator.ne)]:
    setattr(DeviceArray, f"__{_name}__", _binary(_op))
DeviceArray.__hash__ = None
for _name in ("astype", "reshape", "ravel", "copy", "sum", "max", "min", "mean", "any", "all", "transpose",
              "dot", "conj", "item", "squeeze", "nonzero", "argmax", "argmin", "cumsum", "fill", "clip",
              "tolist", "swapaxes", "repeat", "round", "prod", "std", "argsort", "sort", "flatten", "view"):
    setattr(DeviceArray, _name, _method(_name))


class DeviceSparse:
    """A scipy sparse matrix "on the device": products only with DeviceArrays or DeviceSparse."""

    __slots__ = ("_data",)
    __array_ufunc__ = None

    def __init__(self, matrix):
        self._data = matrix

    def get(self):
        """Copy to the host as a scipy sparse matrix (as cupyx's ``get``)."""
        return self._data.copy()

    shape = property(lambda self: self._data.shape)
    nnz = property(lambda self: self._data.nnz)
    dtype = property(lambda self: self._data.dtype)
    T = property(lambda self: DeviceSparse(self._data.T))
    data = property(lambda self: DeviceArray(self._data.data))
    indices = property(lambda self: DeviceArray(self._data.indices))
    indptr = property(lambda self: DeviceArray(self._data.indptr))

    def __array__(self, *args, **kwargs):
        raise TypeError(IMPLICIT)

    def __repr__(self):
        return f"DeviceSparse({self._data!r})"


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("matmul", operator.matmul), ("truediv", operator.truediv)]:
    setattr(DeviceSparse, f"__{_name}__", _binary(_op))
    setattr(DeviceSparse, f"__r{_name}__", _binary(_op, reflected=True))
for _name in ("tocsr", "tocoo", "tocsc", "dot", "diagonal", "copy", "multiply", "sum_duplicates",
              "eliminate_zeros", "transpose", "sum"):
    setattr(DeviceSparse, _name, _method(_name))


#: functions that take host arrays: the explicit host → device copies
_UPLOADS = frozenset({"asarray", "array", "ascontiguousarray"})


class _Namespace:
    """Mirror of a numpy (or scipy) module whose functions take and return device arrays."""

    def __init__(self, module: ModuleType, uploads=frozenset()):
        self._module, self._uploads = module, uploads

    def __repr__(self):
        return f"<device emulation of {self._module.__name__}>"

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if isinstance(attr, ModuleType):
            value = _Namespace(attr)
        elif not callable(attr) or isinstance(attr, type):
            return attr
        elif name in self._uploads:
            value = functools.partial(_upload, attr)
        else:
            value = _device_function(attr, f"{self._module.__name__}.{name}")
        setattr(self, name, value)               # looked up once per name
        return value


def _upload(function, a, *args, **kwargs):
    """numpy's asarray/array/ascontiguousarray as a host → device copy (device input: no copy)."""
    if isinstance(a, DeviceArray):
        return _wrap(function(a._data, *args, **kwargs))
    return _wrap(np.array(function(a, *args, **kwargs), copy=True))


def _device_function(function, what: str):
    @functools.wraps(function)
    def device_function(*args, **kwargs):
        return _wrap(function(*_unwrap(args, what), **_unwrap(kwargs, what)))
    return device_function


def asnumpy(a) -> np.ndarray:
    """Copy a device array to the host (as ``cupy.asnumpy``); numpy arrays pass through."""
    return a.get() if isinstance(a, DeviceArray) else np.asarray(a)


class _EmulatedNumpy(_Namespace):
    def __init__(self):
        super().__init__(np, _UPLOADS)

    asnumpy = staticmethod(asnumpy)


class _EmulatedSparse(_Namespace):
    """scipy.sparse mirror: constructors accept device arrays, or a scipy matrix (an upload)."""

    def __init__(self):
        super().__init__(scipy.sparse)

    def _construct(self, kind, arg, **kwargs):
        if scipy.sparse.issparse(arg):
            return DeviceSparse(getattr(scipy.sparse, kind)(arg, **kwargs))
        return DeviceSparse(getattr(scipy.sparse, kind)(_unwrap(arg, f"sparse.{kind}"), **kwargs))

    def csr_matrix(self, arg, **kwargs):
        return self._construct("csr_matrix", arg, **kwargs)

    def coo_matrix(self, arg, **kwargs):
        return self._construct("coo_matrix", arg, **kwargs)

    def csc_matrix(self, arg, **kwargs):
        return self._construct("csc_matrix", arg, **kwargs)


xp = _EmulatedNumpy()
sparse = _EmulatedSparse()
splinalg = _Namespace(scipy.sparse.linalg)
