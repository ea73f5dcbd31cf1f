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

from ..core.errors import FileFormatError
from .cable import AXON, DENDRITE, SOMA, Cable
from .channels import CRRSS, Passive, channel_model

DEFAULT_MEMBRANES = {SOMA: Passive(), AXON: CRRSS(), DENDRITE: Passive()}


def read_swc(path: str | os.PathLike):
    """Samples of an SWC file: (ids (S,), types (S,), xyz (S, 3) m, radii (S,) m, parents (S,)).

    Raises FileFormatError naming the file and line for malformed lines, NaN, non-positive
    radii, duplicate ids, missing parents, several roots, cycles and zero-length segments."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    rows, lines = [], []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        text = text.split("#", 1)[0].strip()
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
            raise FileFormatError(f"{path}:{number}: non-numeric field in {text!r}") from None
        if not np.isfinite([x, y, z, r]).all():
            raise FileFormatError(f"{path}:{number}: NaN/inf coordinate or radius")
        if r <= 0:
            raise FileFormatError(f"{path}:{number}: radius must be positive, got {r}")
        rows.append((ident, kind, x, y, z, r, parent))
        lines.append(number)
    if not rows:
        raise FileFormatError(f"{path}: no samples")
    data = np.array(rows, dtype=float)
    ids, parents = data[:, 0].astype(np.int64), data[:, 6].astype(np.int64)
    _check_tree(path, ids, parents, data[:, 2:5], np.array(lines))
    return ids, data[:, 1].astype(np.int64), data[:, 2:5] * 1e-6, data[:, 5] * 1e-6, parents


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
             resistivity: float = 1.0, name: str | None = None) -> Cable:
    """A Cable from an SWC file (positions in the file's frame, m).

    ``membranes`` maps SWC type → channel model or name (default: axon CRRSS, soma and
    dendrites passive; unlisted types use the dendrite's); ``max_length`` (m) bounds the
    compartment length; ``resistivity`` ρi (Ω·m; 1.0 = 100 Ω·cm, typical for cortical
    cells, e.g. Aberra et al. 2018)."""
    ids, types, xyz, radii, parents = read_swc(path)
    where = {int(i): k for k, i in enumerate(ids)}
    order = _bfs(ids, parents, where)
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
