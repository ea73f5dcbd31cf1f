"""SimNIBS .tcd coil files (JSON; schema coil_model.schema.json in SimNIBS).

Elements: type 1 (dipoles, moments in A·m²), type 2 (line elements: a segment midpoint and its
direction×length vector, both in mm; zero-length entries are skipped) and type 3 (a sampled
A-field grid, T·m per A, with a voxel → coil-frame affine in mm; coils/grid.py). Each element
names its stimulator, whose ``maxdIdt`` (A/s) becomes ``Coil.max_didt``.
Flexible coils: ``deformList``/``deformRangeList`` become the coil's deformation model
(coils/deformation.py), each element one rigid part; the file's geometry is at deformation 0 and
the coil is returned at the ranges' ``initial`` values. ``coilModels`` become the casing
(coils/casing.py): the ``coilCasing`` stays rigid, each ``elementCasing`` moves with its element.

The file is checked against the structure of SimNIBS' schema (types, required keys, no unknown
keys, value ranges) before anything is built; errors name the file and the JSON path, e.g.
``coil.tcd: $.stimulatorList[0].maxdIdt: expected a number > 0, got "abc"``. The number of
elements is capped (``max_elements``) before any array is allocated or base64 data inflated.
A grid given as base64 text is a zlib-compressed pickle of a numpy array (as SimNIBS writes it);
it is unpickled with only numpy's array-rebuilding functions allowed, so a file cannot run code.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import json
import logging
import math
import os
import pickle
import sys
import zlib
from pathlib import Path

import numpy as np

from ..core.checks import describe_type
from ..core.errors import CoilError, FileFormatError
from ..core.files import read_utf8
from .casing import CoilCasing
from .coil import Coil
from .deformation import CoilDeformations, Deformation
from .grid import MAX_VOXELS, AFieldGrid

MM = 1e-3
#: default cap on the number of 3-vectors (dipoles, segments, casing vertices, ...) a .tcd may
#: declare in all; SimNIBS' coils hold at most a few 10⁴. Raise it with ``max_elements=``.
DEFAULT_MAX_ELEMENTS = 2_000_000

log = logging.getLogger("tmsfield")

_TOP = {"name", "brand", "version", "limits", "resolution", "coilCasing", "coilElementList",
        "stimulatorList", "deformList", "deformRangeList", "coilModels", "selfIntersectionTest"}
_ELEMENT = {"name", "stimulator", "elementCasing", "deformations", "type", "points", "values",
            "data", "affine"}
_STIMULATOR = {"name", "brand", "maxdIdt", "waveformList"}
_WAVEFORM = {"name", "time", "signal", "fit"}
_DEFORM = {"deformRange", "type", "point1", "point2"}
_DEFORM_RANGE = {"initial", "range"}
_MODEL = {"points", "faces", "minDistancePoints", "intersectPoints"}


def _show(value) -> str:
    """A short JSON rendering of ``value`` for messages."""
    if isinstance(value, (list, dict)) and len(value) > 8:
        return f"{'[...]' if isinstance(value, list) else '{...}'} ({len(value)} items)"
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError, RecursionError):  # pragma: no cover - parsed JSON always dumps
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Reader:
    """Typed access to a parsed .tcd with errors naming the file and the JSON path."""

    def __init__(self, path: Path, max_elements: int):
        self.path, self.max_elements, self.used = path, max_elements, 0

    def fail(self, where: str, message: str, cls=FileFormatError):
        raise cls(f"{self.path}: {where}: {message}")

    def expected(self, where: str, what: str, value):
        self.fail(where, f"expected {what}, got {describe_type(value)} {_show(value)}")

    def obj(self, value, where: str, known: set[str], required=()) -> dict:
        if not isinstance(value, dict):
            self.expected(where, "an object", value)
        unknown = sorted(set(value) - known)
        if unknown:
            self.fail(where, f"unknown key {unknown[0]!r} (the .tcd schema allows {sorted(known)}); "
                             "check its spelling")
        for key in required:
            if key not in value:
                self.fail(where, f"missing required key {key!r}")
        return value

    def array(self, value, where: str, *, min_items=0, max_items=None) -> list:
        if not isinstance(value, list):
            self.expected(where, "an array", value)
        if len(value) < min_items:
            self.fail(where, f"expected at least {min_items} item(s), got {len(value)}")
        if max_items is not None and len(value) > max_items:
            self.fail(where, f"expected at most {max_items} item(s), got {len(value)}")
        return value

    def string(self, value, where: str) -> str:
        if not isinstance(value, str):
            self.expected(where, "a string", value)
        return value

    def number(self, value, where: str, *, above=None, minimum=None, maximum=None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.expected(where, "a number", value)
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            self.fail(where, f"expected a finite number, got {_show(value)}", CoilError)
        if above is not None and not x > above:
            self.fail(where, f"expected a number > {above:g}, got {_show(value)}", CoilError)
        if minimum is not None and x < minimum:
            self.fail(where, f"expected a number >= {minimum:g}, got {_show(value)}", CoilError)
        if maximum is not None and x > maximum:
            self.fail(where, f"expected a number <= {maximum:g}, got {_show(value)}", CoilError)
        return x

    def integer(self, value, where: str, *, minimum=0) -> int:
        """A JSON integer (an integral float such as 2.0 counts, as in JSON Schema)."""
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.expected(where, "an integer", value)
        if value < minimum:
            self.fail(where, f"expected an integer >= {minimum}, got {value}")
        return value

    def numbers(self, value, where: str, *, n=None, min_items=0, **limits) -> list[float]:
        items = self.array(value, where, min_items=n or min_items, max_items=n)
        self.count(len(items), where)
        return [self.number(v, f"{where}[{i}]", **limits) for i, v in enumerate(items)]

    def count(self, n: int, where: str) -> None:
        """Book ``n`` more elements against the cap, before they are allocated."""
        self.used += n
        if self.used > self.max_elements:
            self.fail(where, f"the file declares more than {self.max_elements:,} elements in all "
                             f"(cap reached here, {n:,} in this array); if the coil really is this "
                             f"large, raise the cap: tf.coils.load(path, max_elements={2 * self.used})")

    def vectors(self, value, where: str, *, width=3, min_items=1, decode=True, integer=False):
        """(n, width) array from nested lists or base64(zlib(float64, int64 when ``integer``)); ``decode=False``
        validates the structure only (for parts of the file this reader does not use)."""
        if isinstance(value, str):
            if not decode:
                return None
            return self._decode(value, where, width, "<i8" if integer else "<f8")
        rows = self.array(value, where, min_items=min_items)
        self.count(len(rows), where)
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != width:
                self.expected(f"{where}[{i}]", f"an array of {width} numbers", row)
            for j, v in enumerate(row):
                if integer:
                    self.integer(v, f"{where}[{i}][{j}]")
                elif isinstance(v, bool) or not isinstance(v, (int, float)):
                    self.expected(f"{where}[{i}][{j}]", "a number", v)
        if not decode:
            return None
        try:
            arr = np.array(rows, dtype=np.float64).reshape(-1, width)
        except OverflowError:                              # integers beyond float range
            self.fail(where, "number too large for a float", CoilError)
        self.finite(arr, where)
        return arr

    def _decode(self, text: str, where: str, width: int, dtype: str = "<f8") -> np.ndarray:
        room = (self.max_elements - self.used) * width * 8  # bytes still allowed
        try:
            packed = base64.b64decode(text)
            inflate = zlib.decompressobj()
            raw = inflate.decompress(packed, min(room + 8, sys.maxsize))
        except (binascii.Error, ValueError, zlib.error) as exc:
            self.fail(where, f"not base64-encoded zlib-compressed float64 data ({exc})")
        if inflate.unconsumed_tail or len(raw) > room:
            self.count(len(raw) // (width * 8) + 1, where)   # raises with the cap in the message
        if not inflate.eof:
            self.fail(where, "compressed data is truncated (zlib stream does not end)")
        kind = "int64" if dtype == "<i8" else "float64"
        if len(raw) % (8 * width):
            self.fail(where, f"decoded {len(raw)} bytes: not a whole number of {width}-vectors of {kind}")
        arr = np.frombuffer(raw, dtype=dtype).reshape(-1, width).astype(np.float64)
        if not len(arr):
            self.fail(where, "empty array (at least one entry needed)")
        self.count(len(arr), where)
        self.finite(arr, where)
        return arr

    def finite(self, arr: np.ndarray, where: str) -> None:
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        if len(bad):
            self.fail(f"{where}[{bad[0]}]", f"NaN or infinite value in {len(bad)} entr"
                                            f"{'y' if len(bad) == 1 else 'ies'}", CoilError)


def _load_json(path: Path):
    text = read_utf8(path, "a .tcd file is JSON (is this a binary file or another coil format?)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON "
                              f"({exc.msg}); a .tcd file is a JSON document") from None
    except RecursionError:
        raise FileFormatError(f"{path}: JSON nested too deeply to be a .tcd coil file") from None
    except ValueError as exc:                         # e.g. an integer literal of > 4300 digits
        raise FileFormatError(f"{path}: not a readable .tcd (JSON) file: {exc}") from None


def _header(r: _Reader, spec: dict) -> None:
    """Type-check the descriptive parts this reader does not use."""
    for key in ("name", "brand", "version"):
        if key in spec:
            r.string(spec[key], f"$.{key}")
    if "limits" in spec:
        for i, pair in enumerate(r.array(spec["limits"], "$.limits", min_items=3, max_items=3)):
            r.numbers(pair, f"$.limits[{i}]", n=2)
    if "resolution" in spec:
        r.numbers(spec["resolution"], "$.resolution", n=3, above=0)
    if "selfIntersectionTest" in spec:
        groups = r.array(spec["selfIntersectionTest"], "$.selfIntersectionTest", min_items=1)
        for i, group in enumerate(groups):
            r.numbers(group, f"$.selfIntersectionTest[{i}]", min_items=2)


def _casings(r: _Reader, spec: dict) -> list[CoilCasing]:
    """The ``coilModels`` as casings in the coil frame (m)."""
    models = r.array(spec["coilModels"], "$.coilModels", min_items=1) if "coilModels" in spec else []
    out = []
    for i, model in enumerate(models):
        where = f"$.coilModels[{i}]"
        r.obj(model, where, _MODEL, required=("points", "faces"))
        points = r.vectors(model["points"], f"{where}.points", min_items=3) * MM
        faces = r.vectors(model["faces"], f"{where}.faces", integer=True).astype(np.int64)
        if faces.min() < 0 or faces.max() >= len(points):
            r.fail(f"{where}.faces", f"vertex index out of range 0..{len(points) - 1} "
                                     f"(found {int(faces.min())}..{int(faces.max())})")
        extra = {key: r.vectors(model[key], f"{where}.{key}") * MM
                 for key in ("minDistancePoints", "intersectPoints") if key in model}
        out.append(CoilCasing(points, faces, min_distance_points=extra.get("minDistancePoints"),
                              intersect_points=extra.get("intersectPoints")))
    return out


def _deformations(r: _Reader, spec: dict) -> tuple[np.ndarray, np.ndarray, list[Deformation]]:
    """(bounds (P, 2), initial (P,), deformations) of ``deformRangeList`` / ``deformList``."""
    ranges = r.array(spec["deformRangeList"], "$.deformRangeList", min_items=1) if "deformRangeList" in spec else []
    bounds, initial = np.zeros((len(ranges), 2)), np.zeros(len(ranges))
    for i, rng in enumerate(ranges):
        where = f"$.deformRangeList[{i}]"
        r.obj(rng, where, _DEFORM_RANGE, required=("initial", "range"))
        initial[i] = r.number(rng["initial"], f"{where}.initial")
        bounds[i] = r.numbers(rng["range"], f"{where}.range", n=2)
        if bounds[i, 0] > bounds[i, 1]:
            r.fail(f"{where}.range", f"expected [min, max], got {bounds[i].tolist()}", CoilError)
        if not bounds[i, 0] <= initial[i] <= bounds[i, 1]:
            r.fail(f"{where}.initial", f"{initial[i]:g} lies outside its range {bounds[i].tolist()}", CoilError)
    deforms = r.array(spec["deformList"], "$.deformList", min_items=1) if "deformList" in spec else []
    out = []
    for i, d in enumerate(deforms):
        where = f"$.deformList[{i}]"
        r.obj(d, where, _DEFORM, required=("type", "deformRange"))
        kind = d["type"]
        if kind not in ("x", "y", "z", "rot2p"):
            r.expected(f"{where}.type", 'one of "x", "y", "z", "rot2p"', kind)
        k = r.integer(d["deformRange"], f"{where}.deformRange")
        if k >= len(ranges):
            r.fail(f"{where}.deformRange", f"index {k} but deformRangeList has {len(ranges)} entr"
                                           f"{'y' if len(ranges) == 1 else 'ies'}")
        if kind == "rot2p":
            for key in ("point1", "point2"):
                if key not in d:
                    r.fail(where, f"a rot2p deformation needs {key!r}")
            p1, p2 = (np.array(r.numbers(d[key], f"{where}.{key}", n=3)) * MM for key in ("point1", "point2"))
            if np.array_equal(p1, p2):
                r.fail(where, "point1 and point2 coincide: they cannot define a rotation axis", CoilError)
            out.append(Deformation(kind, k, p1, p2))
        else:
            if "point1" in d or "point2" in d:
                r.fail(where, f"a {kind!r} translation takes no point1/point2 (only rot2p does)")
            out.append(Deformation(kind, k))
    return bounds, initial, out


def _casing(r: _Reader, value, where: str, n_models: int) -> int:
    k = r.integer(value, where)
    if k >= n_models:
        r.fail(where, f"casing index {k} but coilModels has {n_models} entr{'y' if n_models == 1 else 'ies'}")
    return k


def _stimulators(r: _Reader, spec: dict) -> list[dict]:
    stimulators = r.array(spec["stimulatorList"], "$.stimulatorList", min_items=1)
    for i, s in enumerate(stimulators):
        where = f"$.stimulatorList[{i}]"
        r.obj(s, where, _STIMULATOR)
        if not s:
            r.fail(where, "empty stimulator object (the schema needs at least one property)")
        for key in ("name", "brand"):
            if key in s:
                r.string(s[key], f"{where}.{key}")
        if "maxdIdt" in s:
            r.number(s["maxdIdt"], f"{where}.maxdIdt", above=0)
        waves = r.array(s["waveformList"], f"{where}.waveformList", min_items=1) if "waveformList" in s else []
        for j, w in enumerate(waves):
            wwhere = f"{where}.waveformList[{j}]"
            r.obj(w, wwhere, _WAVEFORM, required=("time", "signal"))
            if "name" in w:
                r.string(w["name"], f"{wwhere}.name")
            for key in ("time", "signal", "fit"):
                if key in w and not isinstance(w[key], str):
                    bounds = {} if key == "time" else {"minimum": 0, "maximum": 1}
                    r.numbers(w[key], f"{wwhere}.{key}", min_items=2, **bounds)
    return stimulators


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays only: any other global in the stream is refused."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.numeric", "_frombuffer"),
               ("numpy._core.numeric", "_frombuffer"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused {module}.{name}: only numpy arrays are read")
        return super().find_class(module, name)


def _grid_data(r: _Reader, value, where: str) -> np.ndarray:
    """A type-3 element's ``data``: (X, Y, Z, 3) from nested lists or base64(zlib(pickle))."""
    if isinstance(value, str):
        room = (r.max_elements - r.used) * 24 + 4096
        try:
            inflate = zlib.decompressobj()
            raw = inflate.decompress(base64.b64decode(value), room)
        except (binascii.Error, ValueError, zlib.error) as exc:
            r.fail(where, f"not base64-encoded zlib-compressed data ({exc})")
        if inflate.unconsumed_tail:
            r.count(r.max_elements + 1, where)             # raises with the cap in the message
        try:
            arr = _ArrayUnpickler(io.BytesIO(raw)).load()
        except Exception as exc:                          # pickle raises many types for bad data
            r.fail(where, f"not a pickled numpy array ({type(exc).__name__}: {exc})")
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiu":
            r.fail(where, f"expected a numeric array, got {type(arr).__name__}")
    else:
        r.array(value, where, min_items=1)
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            r.fail(where, "expected nested arrays of numbers, shape (X, Y, Z, 3)")
    if arr.ndim != 4 or arr.shape[3] != 3 or min(arr.shape[:3]) < 2:
        r.fail(where, f"a sampled A-field grid has shape (X, Y, Z, 3) with X, Y, Z >= 2, got {arr.shape}")
    if np.prod(arr.shape[:3]) > MAX_VOXELS:
        r.fail(where, f"{np.prod(arr.shape[:3])} voxels is more than {MAX_VOXELS}")
    r.count(int(np.prod(arr.shape[:3])), where)
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        r.fail(where, "NaN or infinite values in the grid", CoilError)
    return arr


def _grid_affine(r: _Reader, value, where: str) -> np.ndarray:
    rows = r.array(value, where, min_items=4, max_items=4)
    affine = np.array([r.numbers(row, f"{where}[{i}]", n=4) for i, row in enumerate(rows)])
    if abs(np.linalg.det(affine[:3, :3])) == 0 or not np.allclose(affine[3], [0, 0, 0, 1]):
        r.fail(where, "a voxel → coil affine needs an invertible 3×3 block and last row [0, 0, 0, 1]", CoilError)
    affine[:3] *= MM                                      # mm → m (rows of the voxel → position map)
    return affine


def read_tcd(path: str | os.PathLike, *, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Coil:
    """Read a .tcd file into a :class:`Coil` (dipoles, segments, A-field grids, casing and the
    deformation model of flexible coils; SI units).

    ``max_elements`` caps the number of 3-vectors the file may hold in all (checked before
    allocating or inflating); raise it for a coil that really is larger.
    Raises FileFormatError (malformed file, naming the JSON path) or CoilError (impossible
    values: NaN, maxdIdt ≤ 0, a deformation outside its range, ...)."""
    path = Path(path)
    spec = _load_json(path)
    r = _Reader(path, int(max_elements))
    r.obj(spec, "$", _TOP, required=("coilElementList", "stimulatorList"))
    _header(r, spec)
    casings = _casings(r, spec)
    bounds, initial, deformations = _deformations(r, spec)
    stimulators = _stimulators(r, spec)
    elements = r.array(spec["coilElementList"], "$.coilElementList", min_items=1)
    rigid_part = len(elements)                            # the coil-level casing: no deformations
    chains, parts_casing = [], []
    if "coilCasing" in spec:
        parts_casing.append((casings[_casing(r, spec["coilCasing"], "$.coilCasing", len(casings))], rigid_part))
    dip = {"p": [], "m": [], "s": [], "part": []}
    seg = {"a": [], "b": [], "s": [], "part": []}
    grids = []
    for i, el in enumerate(elements):
        where = f"$.coilElementList[{i}]"
        r.obj(el, where, _ELEMENT, required=("type", "stimulator"))
        if "name" in el:
            r.string(el["name"], f"{where}.name")
        kind = r.integer(el["type"], f"{where}.type")
        stim = r.integer(el["stimulator"], f"{where}.stimulator")
        if stim >= len(stimulators):
            r.fail(f"{where}.stimulator", f"index {stim} but stimulatorList has {len(stimulators)} "
                                          f"entr{'y' if len(stimulators) == 1 else 'ies'} (indices from 0)")
        if "elementCasing" in el:
            parts_casing.append((casings[_casing(r, el["elementCasing"], f"{where}.elementCasing", len(casings))], i))
        chain = []
        if "deformations" in el:
            for j, d in enumerate(r.array(el["deformations"], f"{where}.deformations", min_items=1)):
                k = r.integer(d, f"{where}.deformations[{j}]")
                if k >= len(deformations):
                    r.fail(f"{where}.deformations[{j}]", f"index {k} but deformList has {len(deformations)} entries")
                chain.append(k)
        chains.append(tuple(chain))
        if kind not in (1, 2, 3):
            r.fail(f"{where}.type", f"unknown element type {kind} (1: dipoles, 2: line elements, "
                                    "3: sampled A-field grid)")
        if kind == 3:
            if "points" in el or "values" in el:
                r.fail(where, "a type-3 (sampled grid) element takes data/affine, not points/values")
            for key in ("data", "affine"):
                if key not in el:
                    r.fail(where, f"a type-3 (sampled grid) element needs {key!r}")
            grids.append(AFieldGrid(_grid_data(r, el["data"], f"{where}.data"),
                                    _grid_affine(r, el["affine"], f"{where}.affine"), stimulator=stim, part=i))
            continue
        if "data" in el or "affine" in el:
            r.fail(where, f"data/affine belong to type-3 (sampled grid) elements, not type {kind}")
        for key in ("points", "values"):
            if key not in el:
                r.fail(where, f"a type-{kind} element needs {key!r}")
        points = r.vectors(el["points"], f"{where}.points") * MM
        values = r.vectors(el["values"], f"{where}.values")
        if len(points) != len(values):
            r.fail(where, f"{len(points)} points but {len(values)} values (one value per point)")
        if kind == 1:
            dip["p"].append(points), dip["m"].append(values)
            dip["s"].append(np.full(len(points), stim)), dip["part"].append(np.full(len(points), i))
        else:  # points are segment midpoints (checked on SimNIBS' example coils)
            keep = np.any(values != 0, axis=1)  # zero-length placeholders carry no current
            points, values = points[keep], values[keep]
            half = 0.5 * values * MM
            seg["a"].append(points - half), seg["b"].append(points + half)
            seg["s"].append(np.full(len(points), stim)), seg["part"].append(np.full(len(points), i))
    chains.append(())                                     # the rigid part
    limits = [s.get("maxdIdt") for s in stimulators]
    max_didt = tuple(float(v) for v in limits) if all(v is not None for v in limits) else ()
    if any(v is not None for v in limits) and not max_didt:
        log.warning("%s: only some stimulators give maxdIdt; the coil's dI/dt limits are left unknown", path)
    cat = lambda parts, shape: np.concatenate(parts) if parts else np.zeros(shape)
    name = spec.get("name") or path.stem
    try:
        model = None
        if len(bounds):
            model = CoilDeformations.build(bounds, initial, deformations, chains)
            model = dataclasses.replace(model, values=np.zeros(len(bounds)))   # the file's geometry
        coil = Coil(dipole_positions=cat(dip["p"], (0, 3)), dipole_moments=cat(dip["m"], (0, 3)),
                    dipole_stimulator=cat(dip["s"], (0,)).astype(int), dipole_part=cat(dip["part"], (0,)).astype(int),
                    segment_starts=cat(seg["a"], (0, 3)), segment_ends=cat(seg["b"], (0, 3)),
                    segment_stimulator=cat(seg["s"], (0,)).astype(int), segment_part=cat(seg["part"], (0,)).astype(int),
                    grids=tuple(grids), casing=CoilCasing.merge(parts_casing), deformations=model,
                    max_didt=max_didt, name=name)
        if model is not None and np.any(initial != 0):
            coil = coil.deformed(initial)
        elif model is None and deformations:
            r.fail("$.deformList", "deformations without a deformRangeList")
        return coil
    except CoilError as exc:
        raise CoilError(f"{path}: {exc}") from None
