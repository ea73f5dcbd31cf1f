"""Flexible coils: rigid parts moved by named deformation parameters (SimNIBS .tcd
``deformList`` / ``deformRangeList``).

A flexible coil (Brainsway H1/H4/H7, MagVenture MST-Twin) is a set of *parts* (the .tcd's
coil elements), each a rigid body. A part lists deformations that act on it in order; each
deformation is a translation along an axis (mm) or a rotation about the line through two points
(degrees, right-handed about point1 → point2) whose amount is one of the coil's *parameters*.
Several deformations may share a parameter: one value swings all the windings of a wing.

As SimNIBS composes them (``TmsCoilElements.get_combined_transformation``): a part's matrix is
``D_k(v) ⋯ D_2(v) D_1(v)`` for its deformations 1…k, and the coil's pose acts after it. The
geometry a :class:`~tmsfield.coils.coil.Coil` holds is always its current shape; moving to new
parameter values moves each part by ``T(new) T(current)⁻¹``.

>>> import numpy as np
>>> hinge = CoilDeformations.build(bounds=[[-30, 30]], initial=[0.0],
...     deformations=[Deformation("rot2p", 0, point1=[0, 0, 0], point2=[0, 1e-3, 0])], chains=[(), (0,)])
>>> m = hinge.part_matrices([90.0])[1]          # part 1 turned 90° about the y axis
>>> np.round(m[:3, :3] @ [1.0, 0, 0], 6).tolist()
[0.0, 0.0, -1.0]
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..core.errors import CoilError

#: deformation kinds of SimNIBS' .tcd schema: translations along the coil's x/y/z axes (mm) and a
#: rotation about the line through two points (degrees)
KINDS = ("x", "y", "z", "rot2p")


@dataclasses.dataclass(frozen=True)
class Deformation:
    """One deformation: ``kind`` in :data:`KINDS`, the index of the ``parameter`` that sets its
    amount, and for "rot2p" the axis points ``point1``, ``point2`` (m, coil frame)."""
    kind: str
    parameter: int
    point1: Sequence[float] | None = None
    point2: Sequence[float] | None = None


def _rotation(axis: np.ndarray, angle_deg: float) -> np.ndarray:
    """3×3 right-handed rotation by ``angle_deg`` about the unit ``axis`` (Rodrigues)."""
    a = np.radians(angle_deg)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)


@dataclasses.dataclass(frozen=True, eq=False)
class CoilDeformations:
    """The deformation model of a flexible coil, in the coil's current frame.

    Attributes
    ----------
    bounds : (P, 2) allowed range of each parameter (mm for translations, degrees for rotations).
    values : (P,) current parameter values (the coil's geometry is at these).
    kinds : (K,) kind of each deformation.      parameter : (K,) its parameter index.
    origin : (K, 3) m, a point on each rotation axis (zeros for translations).
    axis : (K, 3) unit direction: the rotation axis, or the translation direction.
    chains : per part, the deformation indices acting on it, in the order they apply.
    names : (P,) a label per parameter (the deformations' kinds and the parts they move).
    """
    bounds: np.ndarray
    values: np.ndarray
    kinds: tuple[str, ...]
    parameter: np.ndarray
    origin: np.ndarray
    axis: np.ndarray
    chains: tuple[tuple[int, ...], ...]
    names: tuple[str, ...] = ()

    @classmethod
    def build(cls, bounds, initial, deformations: Sequence[Deformation], chains, names=()) -> CoilDeformations:
        """From parameter ``bounds`` (P, 2), ``initial`` values (P,), the ``deformations`` and each
        part's ``chains`` of deformation indices. Raises CoilError for inconsistent input."""
        bounds = np.asarray(bounds, dtype=float).reshape(-1, 2)
        initial = np.asarray(initial, dtype=float).reshape(-1)
        if len(initial) != len(bounds):
            raise CoilError(f"{len(bounds)} deformation ranges but {len(initial)} initial values")
        if not (np.isfinite(bounds).all() and np.isfinite(initial).all()):
            raise CoilError("deformation ranges and initial values must be finite")
        bad = np.flatnonzero((bounds[:, 0] > bounds[:, 1]) | (initial < bounds[:, 0]) | (initial > bounds[:, 1]))
        if len(bad):
            i = int(bad[0])
            raise CoilError(f"deformation range {i}: need min ≤ initial ≤ max, got range {bounds[i].tolist()} "
                            f"and initial {initial[i]:g}")
        origin, axis = np.zeros((len(deformations), 3)), np.zeros((len(deformations), 3))
        for k, d in enumerate(deformations):
            if d.kind not in KINDS:
                raise CoilError(f"deformation {k}: unknown kind {d.kind!r} (one of {', '.join(KINDS)})")
            if not 0 <= d.parameter < len(bounds):
                raise CoilError(f"deformation {k}: parameter {d.parameter} but there are {len(bounds)} ranges")
            if d.kind == "rot2p":
                p1, p2 = np.asarray(d.point1, float), np.asarray(d.point2, float)
                length = np.linalg.norm(p2 - p1)
                if not length > 0:
                    raise CoilError(f"deformation {k}: rot2p needs two distinct points, got {p1.tolist()} twice")
                origin[k], axis[k] = p1, (p2 - p1) / length
            else:
                axis[k, "xyz".index(d.kind)] = 1.0
        for j, chain in enumerate(chains):
            if any(not 0 <= k < len(deformations) for k in chain):
                raise CoilError(f"part {j}: deformation index out of range in {list(chain)}")
        if not names:
            names = tuple(_parameter_name(i, deformations, chains) for i in range(len(bounds)))
        return cls(bounds, initial, tuple(d.kind for d in deformations),
                   np.array([d.parameter for d in deformations], dtype=np.int64), origin, axis,
                   tuple(tuple(int(k) for k in c) for c in chains), tuple(names))

    @property
    def n_parameters(self) -> int:
        return len(self.bounds)

    @property
    def units(self) -> tuple[str, ...]:
        """Unit of each parameter: "deg" or "mm" (from the first deformation using it)."""
        out = []
        for i in range(self.n_parameters):
            kinds = [k for k, p in zip(self.kinds, self.parameter) if p == i]
            out.append("deg" if kinds and kinds[0] == "rot2p" else "mm")
        return tuple(out)

    def check_values(self, values) -> np.ndarray:
        """``values`` as a (P,) array inside the bounds, or a CoilError naming the parameter."""
        v = np.asarray(values, dtype=float).reshape(-1)
        if len(v) != self.n_parameters:
            raise CoilError(f"this coil has {self.n_parameters} deformation parameter(s) "
                            f"({', '.join(self.names)}), got {len(v)} value(s)")
        for i in range(len(v)):
            lo, hi = self.bounds[i]
            if not (np.isfinite(v[i]) and lo - 1e-9 <= v[i] <= hi + 1e-9):
                raise CoilError(f"deformation {self.names[i]!r} = {v[i]:g} {self.units[i]} is outside its range "
                                f"[{lo:g}, {hi:g}]")
        return np.clip(v, self.bounds[:, 0], self.bounds[:, 1])

    def deformation_matrix(self, k: int, value: float) -> np.ndarray:
        """4×4 matrix of deformation ``k`` at parameter ``value`` (mm or degrees)."""
        m = np.eye(4)
        if self.kinds[k] == "rot2p":
            r = _rotation(self.axis[k], value)
            m[:3, :3], m[:3, 3] = r, self.origin[k] - r @ self.origin[k]
        else:
            m[:3, 3] = 1e-3 * value * self.axis[k]
        return m

    def part_matrices(self, values) -> np.ndarray:
        """(n_parts, 4, 4): each part's deformation at parameter ``values`` relative to zero."""
        values = np.asarray(values, dtype=float)
        out = np.tile(np.eye(4), (len(self.chains), 1, 1))
        for j, chain in enumerate(self.chains):
            for k in chain:
                out[j] = self.deformation_matrix(k, values[self.parameter[k]]) @ out[j]
        return out

    def moves_to(self, values) -> np.ndarray:
        """(n_parts, 4, 4): the rigid motion taking each part from the current values to ``values``."""
        return self.part_matrices(values) @ np.linalg.inv(self.part_matrices(self.values))

    def transformed(self, matrix: np.ndarray) -> CoilDeformations:
        """The same model after the coil is moved by the rigid ``matrix`` (4×4, m)."""
        rot, shift = matrix[:3, :3], matrix[:3, 3]
        return dataclasses.replace(self, origin=self.origin @ rot.T + shift, axis=self.axis @ rot.T)

    def at(self, values) -> CoilDeformations:
        return dataclasses.replace(self, values=self.check_values(values))


def move_parts(matrices: np.ndarray, points: np.ndarray, part: np.ndarray, *, vectors: bool = False) -> np.ndarray:
    """``points`` (n, 3) each moved by the 4×4 of its part, ``matrices[part]`` (rotation only
    for ``vectors``: dipole moments)."""
    m = matrices[part]
    out = np.einsum("nij,nj->ni", m[:, :3, :3], points)
    return out if vectors else out + m[:, :3, 3]


def _parameter_name(i: int, deformations: Sequence[Deformation], chains) -> str:
    users = [k for k, d in enumerate(deformations) if d.parameter == i]
    kinds = sorted({deformations[k].kind for k in users})
    parts = sorted({j for j, c in enumerate(chains) for k in c if k in users})
    kind = "rotation" if kinds == ["rot2p"] else "translation " + "/".join(kinds) if kinds else "unused"
    return f"{i}: {kind} of part(s) {parts}" if parts else f"{i}: {kind}"
