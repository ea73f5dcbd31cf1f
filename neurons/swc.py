"""Branched morphologies from SWC files (the NeuroMorpho.org standard) as cables.

SWC: one sample per line, ``id type x y z radius parent`` (µm, parent −1 at the root),
``#`` comments. Types: 1 soma, 2 axon, 3 (basal) dendrite, 4 apical dendrite; others keep
their number and get the dendrite membrane.

Discretisation (vertex-centred): every sample is a compartment; segments longer than
``max_length`` are split into equal pieces with linearly interpolated radius. A compartment
owns half of the lateral (frustum) membrane of each segment that meets it; a single-point
soma root adds its sphere 4πr². Neighbours are joined by the frustum resistance
ρi L / (π r1 r2) (the child radius alone for segments leaving a single-point soma, whose
interior is isopotential). Compartments are renumbered in breadth-first (Hines) order.
"""
from __future__ import annotations

import os
from collections import deque
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, TmsFieldError
from .cable import AXON, DENDRITE, SOMA, Cable
from .channels import CRRSS, Passive, channel_model

DEFAULT_MEMBRANES = {SOMA: Passive(), AXON: CRRSS(), DENDRITE: Passive()}
#: largest |coordinate| and radius (µm) an SWC sample may have: 10 cm, no neuron is bigger; larger
#: values are another unit (nm) or corrupt, and would explode the compartment count
MAX_EXTENT_UM = 1e5
#: smallest radius (µm): 1 nm, below any membrane's thickness (smaller is a unit or file error)
MIN_RADIUS_UM = 1e-3
#: default cap on the number of compartments :func:`load_swc` creates (raise: ``max_compartments=``)
DEFAULT_MAX_COMPARTMENTS = 1_000_000
#: sample ids, types and parents beyond this are not SWC integers (float64 holds them exactly)
_MAX_INT = 2 ** 53


def _lines(path: Path):
    """(line number, text before any '#') of each line; non-UTF-8 bytes in comments are ignored,
    in data they are a FileFormatError naming the line and column."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(raw.splitlines(), start=1):
        data = line.split(b"#", 1)[0]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"{path}:{number}: byte 0x{data[exc.start]:02x} at column {exc.start + 1} is "
                                  "not UTF-8 text: an SWC file is plain text (is this a binary file, or "
                                  "another morphology format such as .asc/.nrx?)") from None
        if number == 1:
            text = text.lstrip("\ufeff")                 # byte-order mark
        yield number, text


def read_swc(path: str | os.PathLike, *, max_samples: int = DEFAULT_MAX_COMPARTMENTS):
    """Samples of an SWC file: (ids (S,), types (S,), xyz (S, 3) m, radii (S,) m, parents (S,)).

    Raises FileFormatError naming the file and line for malformed lines, non-UTF-8 data, NaN,
    coordinates or radii beyond :data:`MAX_EXTENT_UM` (10 cm), radii below
    :data:`MIN_RADIUS_UM`, duplicate ids, missing parents, several roots, cycles, zero-length
    segments and more than ``max_samples`` samples."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    rows, lines = [], []
    for number, text in _lines(path):
        text = text.strip()
        if not text:
            continue
        fields = text.split()
        if len(fields) != 7:
            raise FileFormatError(f"{path}:{number}: expected 7 fields (id type x y z radius parent), "
                                  f"got {len(fields)}")
        try:
            ident, kind, parent = int(fields[0]), int(fields[1]), int(fields[6])
            x, y, z, r = (float(f) for f in fields[2:6])
        except ValueError:
            raise FileFormatError(f"{path}:{number}: non-numeric field in {text[:80]!r}") from None
        if max(abs(ident), abs(kind), abs(parent)) > _MAX_INT:
            raise FileFormatError(f"{path}:{number}: id, type or parent beyond {_MAX_INT} in {text[:80]!r}")
        if not np.isfinite([x, y, z, r]).all():
            raise FileFormatError(f"{path}:{number}: NaN/inf coordinate or radius")
        if max(abs(x), abs(y), abs(z), r) > MAX_EXTENT_UM:
            raise FileFormatError(f"{path}:{number}: coordinate or radius {max(abs(x), abs(y), abs(z), r):g} µm is "
                                  f"beyond {MAX_EXTENT_UM:g} µm (10 cm), larger than any neuron: SWC positions "
                                  "and radii are in µm (is the file in nm, or corrupt?)")
        if r <= 0:
            raise FileFormatError(f"{path}:{number}: radius must be positive, got {r}")
        if r < MIN_RADIUS_UM:
            raise FileFormatError(f"{path}:{number}: radius {r:g} µm is below {MIN_RADIUS_UM:g} µm (1 nm), "
                                  "thinner than a membrane: SWC radii are in µm")
        if len(rows) == max_samples:
            raise FileFormatError(f"{path}:{number}: more than {max_samples:,} samples; if the cell really "
                                  f"is this large, raise the cap: load_swc(path, max_compartments=...) or "
                                  "read_swc(path, max_samples=...)")
        rows.append((ident, kind, x, y, z, r, parent))
        lines.append(number)
    if not rows:
        raise FileFormatError(f"{path}: no samples")
    data = np.array(rows, dtype=float)
    ids, parents = data[:, 0].astype(np.int64), data[:, 6].astype(np.int64)
    xyz = data[:, 2:5] * 1e-6
    _check_tree(path, ids, parents, xyz, np.array(lines))
    return ids, data[:, 1].astype(np.int64), xyz, data[:, 5] * 1e-6, parents


def _check_tree(path, ids, parents, xyz, lines):
    where = {int(i): k for k, i in enumerate(ids)}
    if len(where) != len(ids):
        seen = set()
        for k, i in enumerate(ids):
            if i in seen:
                raise FileFormatError(f"{path}:{lines[k]}: duplicate sample id {i}")
            seen.add(int(i))
    roots = np.flatnonzero(parents == -1)
    if len(roots) != 1:
        raise FileFormatError(f"{path}: need exactly one root (parent -1), found {len(roots)}"
                              + (f" (lines {lines[roots].tolist()[:5]})" if len(roots) else ""))
    for k, p in enumerate(parents):
        if p != -1 and int(p) not in where:
            raise FileFormatError(f"{path}:{lines[k]}: parent {p} of sample {ids[k]} does not exist")
        if p != -1 and np.array_equal(xyz[k], xyz[where[int(p)]]):
            raise FileFormatError(f"{path}:{lines[k]}: zero-length segment (sample {ids[k]} sits on "
                                  f"its parent {p})")
    order = _bfs(ids, parents, where)
    if len(order) != len(ids):
        missing = sorted(set(range(len(ids))) - set(order))
        raise FileFormatError(f"{path}:{lines[missing[0]]}: sample {ids[missing[0]]} is on a cycle "
                              "(not connected to the root)")


def _bfs(ids, parents, where) -> list[int]:
    children: dict[int, list[int]] = {}
    for k, p in enumerate(parents):
        if p != -1:
            children.setdefault(where[int(p)], []).append(k)
    root = int(np.flatnonzero(parents == -1)[0])
    order, queue = [], deque([root])
    while queue:
        k = queue.popleft()
        order.append(k)
        queue.extend(children.get(k, ()))
    return order


def load_swc(path: str | os.PathLike, *, membranes=None, max_length: float = 20e-6,
             resistivity: float = 1.0, name: str | None = None,
             max_compartments: int = DEFAULT_MAX_COMPARTMENTS) -> Cable:
    """A Cable from an SWC file (positions in the file's frame, m).

    ``membranes`` maps SWC type → channel model or name (default: axon CRRSS, soma and
    dendrites passive; unlisted types use the dendrite's); ``max_length`` (m) bounds the
    compartment length; ``resistivity`` ρi (Ω·m; 1.0 = 100 Ω·cm, typical for cortical
    cells, e.g. Aberra et al. 2018). ``max_compartments`` caps the number of compartments
    the discretisation may create (counted before any is allocated)."""
    for what, value in (("max_length", max_length), ("resistivity", resistivity)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                or not np.isfinite(value) or value <= 0:
            raise TmsFieldError(f"load_swc: {what} must be a finite number > 0 (SI units), got {value!r}")
    ids, types, xyz, radii, parents = read_swc(path, max_samples=max_compartments)
    where = {int(i): k for k, i in enumerate(ids)}
    order = _bfs(ids, parents, where)
    child = parents != -1
    up = np.array([where[int(p)] for p in parents[child]], dtype=np.int64)
    lengths = np.linalg.norm(xyz[child] - xyz[up], axis=1)
    total = 1.0 + float(np.maximum(1.0, np.ceil(lengths / max_length)).sum())
    if total > max_compartments:
        raise FileFormatError(f"{path}: {len(ids):,} samples with compartments of at most {max_length * 1e6:g} µm "
                              f"would make {total:,.0f} compartments, more than the cap of {max_compartments:,}; "
                              "use a larger max_length, or raise the cap: load_swc(path, "
                              f"max_compartments={int(min(total, 1e15))})")
    compartment = {order[0]: 0}                 # sample -> its compartment (last piece)
    pos, rad, kind, par = [xyz[order[0]]], [radii[order[0]]], [types[order[0]]], [-1]
    seg_len, seg_r = [0.0], [(0.0, 0.0)]
    for k in order[1:]:
        p = compartment[where[int(parents[k])]]
        length = float(np.linalg.norm(xyz[k] - pos[p]))
        pieces = max(1, int(np.ceil(length / max_length)))
        for j in range(1, pieces + 1):
            frac = j / pieces
            pos.append(pos[p] + frac * (xyz[k] - pos[p]))
            rad.append(rad[p] + frac * (radii[k] - rad[p]))
            kind.append(types[k])
            seg_len.append(length / pieces)
            seg_r.append((rad[-2] if j > 1 else rad[p], rad[-1]))
            par.append(p if j == 1 else len(pos) - 2)
        compartment[k] = len(pos) - 1
    pos, rad, kind, par = np.array(pos), np.array(rad), np.array(kind), np.array(par)
    seg_len, seg_r = np.array(seg_len), np.array(seg_r)
    soma_point = kind[0] == SOMA and not np.any((kind[1:] == SOMA) & (par[1:] == 0))
    r1, r2 = seg_r[:, 0], seg_r[:, 1]
    if soma_point:                              # segments leaving a point soma: child radius
        leaving = par == 0
        r1 = np.where(leaving, r2, r1)
    lateral = np.pi * (r1 + r2) * np.sqrt(seg_len ** 2 + (r1 - r2) ** 2)
    area = np.zeros(len(pos))
    area[1:] += 0.5 * lateral[1:]
    np.add.at(area, par[1:], 0.5 * lateral[1:])
    if soma_point:
        area[0] += 4 * np.pi * rad[0] ** 2
    g_axial = np.zeros(len(pos))
    g_axial[1:] = np.pi * r1[1:] * r2[1:] / (resistivity * seg_len[1:])
    channels, channel = _membranes(kind, membranes)
    return Cable(pos, par, g_axial, area, channel, channels, kind, name or Path(path).stem)


def _membranes(kind, membranes):
    table = dict(DEFAULT_MEMBRANES)
    table.update({int(k): v for k, v in (membranes or {}).items()})
    models, index, channel = [], {}, np.zeros(len(kind), dtype=np.int64)
    for t in np.unique(kind):
        model = channel_model(table.get(int(t), table[DENDRITE]))
        if model not in index:             # models are frozen dataclasses: equal ones merge
            index[model] = len(models)
            models.append(model)
        channel[kind == t] = index[model]
    return tuple(models), channel
