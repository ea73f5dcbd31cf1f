"""Coil models: magnetic dipoles, straight current segments and sampled A-field grids, in coil
coordinates (m)."""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np

from ..core.errors import CoilError


def _vectors(name: str, a, coil: str) -> np.ndarray:
    a = np.zeros((0, 3)) if a is None else np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise CoilError(f"coil {coil!r}: {name} must have shape (n, 3), got {a.shape}")
    bad = np.flatnonzero(~np.isfinite(a).all(axis=1))
    if len(bad):
        raise CoilError(f"coil {coil!r}: non-finite {name} at element(s) {bad[:5].tolist()} (0-based)")
    return np.ascontiguousarray(a)


def _indices(a, n: int, name: str, coil: str) -> np.ndarray:
    a = np.zeros(n, dtype=np.int64) if a is None else np.asarray(a, dtype=np.int64).reshape(-1)
    if len(a) != n or (n and a.min() < 0):
        raise CoilError(f"coil {coil!r}: need one non-negative {name} per element")
    return a


@dataclasses.dataclass(frozen=True, eq=False)
class Coil:
    """A TMS coil as magnetic dipoles, straight current segments and/or a sampled A-field grid
    (SimNIBS' NIfTI coils, :class:`~tmsfield.coils.grid.AFieldGrid`), per ampere of current.

    Coordinates follow SimNIBS: origin at the coil centre on its bottom face, z into the head,
    y along the handle. All arrays are in SI units.

    Attributes
    ----------
    dipole_positions : (D, 3) m.      dipole_moments : (D, 3) A·m² per A.
    segment_starts, segment_ends : (S, 3) m; current flows start → end.
    segment_weights : (S,) current in the segment per ampere of coil current (turn count, sign).
    dipole_stimulator, segment_stimulator : (D,), (S,) index of the stimulator driving each
        element (multi-stimulator .tcd coils); 0 for ordinary coils.
    max_didt : per-stimulator maximum dI/dt (A/s), or empty when unknown.
    name : label.
    grids : sampled A-fields (:class:`~tmsfield.coils.grid.AFieldGrid`, each with its stimulator).
        They give A and dA/dt; their B, and the placement search's resampling, need the coil's
        elements (.ccd/.tcd).
    casing : the housing (:class:`~tmsfield.coils.casing.CoilCasing`), or None.
    deformations : a flexible coil's deformation model
        (:class:`~tmsfield.coils.deformation.CoilDeformations`), or None for a rigid coil.
    dipole_part, segment_part : (D,), (S,) the part (flexible coils: the .tcd element) each
        element belongs to; 0 for rigid coils.
    """
    dipole_positions: np.ndarray | None = None
    dipole_moments: np.ndarray | None = None
    segment_starts: np.ndarray | None = None
    segment_ends: np.ndarray | None = None
    segment_weights: np.ndarray | None = None
    dipole_stimulator: np.ndarray | None = None
    segment_stimulator: np.ndarray | None = None
    max_didt: tuple[float, ...] = ()
    name: str = "coil"
    grids: tuple = ()
    casing: object = None
    deformations: object = None
    dipole_part: np.ndarray | None = None
    segment_part: np.ndarray | None = None

    def __post_init__(self):
        s = lambda k, v: object.__setattr__(self, k, v)
        n = self.name
        s("dipole_positions", _vectors("dipole positions", self.dipole_positions, n))
        s("dipole_moments", _vectors("dipole moments", self.dipole_moments, n))
        s("segment_starts", _vectors("segment starts", self.segment_starts, n))
        s("segment_ends", _vectors("segment ends", self.segment_ends, n))
        nd, ns = len(self.dipole_positions), len(self.segment_starts)
        if len(self.dipole_moments) != nd or len(self.segment_ends) != ns:
            raise CoilError(f"coil {n!r}: positions/moments or starts/ends differ in length")
        s("grids", tuple(self.grids))
        if nd + ns == 0 and not self.grids:
            raise CoilError(f"coil {n!r} has no dipoles, no segments and no A-field grid")
        w = np.ones(ns) if self.segment_weights is None else np.asarray(self.segment_weights, float).reshape(-1)
        if len(w) != ns or not np.isfinite(w).all():
            raise CoilError(f"coil {n!r}: need one finite weight per segment")
        s("segment_weights", w)
        if ns and np.any(np.linalg.norm(self.segment_ends - self.segment_starts, axis=1) == 0):
            raise CoilError(f"coil {n!r}: zero-length segment(s)")
        s("dipole_stimulator", _indices(self.dipole_stimulator, nd, "stimulator index", n))
        s("segment_stimulator", _indices(self.segment_stimulator, ns, "stimulator index", n))
        s("max_didt", tuple(float(v) for v in self.max_didt))
        s("dipole_part", _indices(self.dipole_part, nd, "part index", n))
        s("segment_part", _indices(self.segment_part, ns, "part index", n))
        if self.deformations is not None:
            parts = [self.dipole_part, self.segment_part, [g.part for g in self.grids]]
            if self.casing is not None:
                c = self.casing
                parts += [c.vertex_part, c.min_distance_part, c.intersect_part]
            top = max((int(np.max(p)) for p in parts if len(p)), default=0)
            if top >= len(self.deformations.chains):
                raise CoilError(f"coil {n!r}: part index {top} but the deformation model has "
                                f"{len(self.deformations.chains)} parts")

    @property
    def n_stimulators(self) -> int:
        idx = np.concatenate([self.dipole_stimulator, self.segment_stimulator, [g.stimulator for g in self.grids]])
        return int(idx.max()) + 1 if len(idx) else 1

    @property
    def is_flexible(self) -> bool:
        """Whether the coil has deformation parameters (a flexible coil, coils/deformation.py)."""
        return self.deformations is not None and self.deformations.n_parameters > 0

    @property
    def n_sources(self) -> int:
        return len(self.dipole_positions) + len(self.segment_starts)

    def source_points(self) -> np.ndarray:
        """All dipole positions and segment end points (m), for placement checks."""
        return np.concatenate([self.dipole_positions, self.segment_starts, self.segment_ends])

    def transformed(self, matrix: np.ndarray) -> Coil:
        """This coil moved by a 4×4 rigid transform (rotation + translation in m)."""
        matrix = np.asarray(matrix, dtype=float)
        rot, shift = matrix[:3, :3], matrix[:3, 3]
        return dataclasses.replace(
            self,
            dipole_positions=self.dipole_positions @ rot.T + shift,
            dipole_moments=self.dipole_moments @ rot.T,
            segment_starts=self.segment_starts @ rot.T + shift,
            segment_ends=self.segment_ends @ rot.T + shift,
            grids=tuple(g.transformed(matrix) for g in self.grids),
            casing=None if self.casing is None else self.casing.transformed(matrix),
            deformations=None if self.deformations is None else self.deformations.transformed(matrix))

    def deformed(self, values) -> Coil:
        """This flexible coil with its deformation parameters set to ``values`` (P,) (mm for
        translations, degrees for rotations; within each parameter's range): every part moved
        rigidly from the current setting to the new one. CoilError for a rigid coil or values
        out of range."""
        if not self.is_flexible:
            raise CoilError(f"coil {self.name!r} has no deformation parameters (it is not a flexible coil)")
        from .deformation import move_parts
        model = self.deformations.at(values)
        moves = self.deformations.moves_to(model.values)
        move = functools.partial(move_parts, moves)
        return dataclasses.replace(
            self, deformations=model,
            dipole_positions=move(self.dipole_positions, self.dipole_part),
            dipole_moments=move(self.dipole_moments, self.dipole_part, vectors=True),
            segment_starts=move(self.segment_starts, self.segment_part),
            segment_ends=move(self.segment_ends, self.segment_part),
            grids=tuple(g.transformed(moves[g.part]) for g in self.grids),
            casing=None if self.casing is None else self.casing.moved(moves))

    def scaled(self, current: float | Sequence[float]) -> Coil:
        """This coil with every element's strength multiplied by its stimulator's ``current``.

        ``current`` is a scalar or one value per stimulator (A, or A/s for dI/dt).
        """
        per_stim = np.atleast_1d(np.asarray(current, dtype=float))
        if per_stim.size == 1:
            per_stim = np.full(self.n_stimulators, per_stim[0])
        if len(per_stim) != self.n_stimulators or not np.isfinite(per_stim).all():
            raise CoilError(f"coil {self.name!r} has {self.n_stimulators} stimulator(s): "
                            f"give one finite current (or dI/dt) each, got {per_stim.tolist()}")
        return dataclasses.replace(
            self,
            dipole_moments=self.dipole_moments * per_stim[self.dipole_stimulator][:, None],
            segment_weights=self.segment_weights * per_stim[self.segment_stimulator],
            grids=tuple(g.scaled(per_stim[g.stimulator]) for g in self.grids))

    # --- fields (delegated to coils.primary) ------------------------------------------
    def vector_potential(self, points, pose=None, *, current=1.0, method="auto", backend="auto"):
        """Magnetic vector potential A (T·m), shape (N, 3), at ``points`` (N, 3) in m."""
        from .primary import vector_potential
        return vector_potential(self._placed(pose).scaled(current), points, method=method, backend=backend)

    def dadt(self, points, pose=None, *, didt=1e6, method="auto", backend="auto"):
        """dA/dt (V/m), shape (N, 3), for a coil current slope ``didt`` (A/s).

        The primary electric field is ``-dadt``.
        """
        return self.vector_potential(points, pose, current=didt, method=method, backend=backend)

    def b_field(self, points, pose=None, *, current=1.0, method="auto", backend="auto"):
        """Magnetic flux density B (T), shape (N, 3), at ``points`` (N, 3) in m."""
        from .primary import magnetic_field
        return magnetic_field(self._placed(pose).scaled(current), points, method=method, backend=backend)

    def _placed(self, pose) -> Coil:
        return self if pose is None else self.transformed(pose.matrix)

    def summary(self) -> str:
        """One line: name and element counts."""
        lim = f", max dI/dt {[f'{v:.3g}' for v in self.max_didt]} A/s" if self.max_didt else ""
        grid = "".join(f", an A-field grid of {g.values.shape[:3]} voxels" for g in self.grids)
        if self.is_flexible:
            d = self.deformations
            grid += f", {d.n_parameters} deformation parameter(s) at {np.round(d.values, 3).tolist()} {list(d.units)}"
        return (f"Coil {self.name!r}: {len(self.dipole_positions)} dipoles, "
                f"{len(self.segment_starts)} segments{grid}, {self.n_stimulators} stimulator(s){lim}")
