"""``optimize_placement``: the best coil position and handle angle for a target."""
from __future__ import annotations

import dataclasses
import logging
import os
import time

import numpy as np

from ..coils.pose import CoilPose, check_placement
from ..core.checks import check_choice
from ..core.errors import PlacementError, TmsFieldError
from ..core.progress import scoped_verbose, timed
from .adm import (
    DEFAULT_ANGLES,
    DEFAULT_HEIGHTS,
    DEFAULT_RADII,
    AuxiliaryCoil,
    PolarGrid,
)
from .biot_savart import FMM_EPS
from .dipole_source import locate_target, unit_direction
from .positions import ScalpPositions, handle_rotation, scalp_positions
from .reciprocity import ReciprocityField
from .sweep import orientation_maps

log = logging.getLogger("tmsfield")

OBJECTIVES = ("max", "focality")
#: off-target points for "focality" when none are given: this many at FOCALITY_RING (m) from the
#: target, on the plane parallel to the scalp
FOCALITY_POINTS, FOCALITY_RING = 6, 0.015


@dataclasses.dataclass(frozen=True, eq=False)
class PlacementResult:
    """Outcome of :func:`optimize_placement`.

    Attributes
    ----------
    target : (3,) m.   direction : (3,) unit vector, or None for |E|.
    objective : "max" or "focality".
    positions : :class:`ScalpPositions` searched (P).   angles : (A,) handle angles, rad.
    values : (P, A) objective map — E·d or |E| (V/m) for "max", |E_target|/max|E_off| for
        "focality".
    E : (P, A, K) E·d_k (V/m) at the target along the reciprocal directions (the axes x, y, z
        when ``direction`` is None).
    best : (position index, angle index).   pose : the winning CoilPose.
    verification : the winner's full FEM solve vs the ADM and direct-reciprocity predictions.
    timings : seconds per stage.   provenance : inputs and settings.

    ``save(path)`` writes it all to a .npz; ``PlacementResult.load(path)`` or
    :func:`tmsfield.load_result` read it back.
    """
    target: np.ndarray
    direction: np.ndarray | None
    objective: str
    positions: ScalpPositions
    angles: np.ndarray
    values: np.ndarray
    E: np.ndarray
    best: tuple
    pose: CoilPose
    verification: dict
    timings: dict
    provenance: dict

    @property
    def matsimnibs(self) -> np.ndarray:
        """The winning pose as a SimNIBS matsimnibs 4×4 (translation in mm)."""
        return self.pose.to_matsimnibs("mm")

    @property
    def best_angle_deg(self) -> float:
        return float(np.rad2deg(self.angles[self.best[1]]))

    @property
    def n_evaluations(self) -> int:
        return int(self.values.size)

    def summary(self) -> str:
        """A few lines: the winner, its value, the verification and the timings."""
        v, t = self.verification, self.timings
        what = "|E|" if self.direction is None else f"E·{np.round(self.direction, 3).tolist()}"
        unit = "" if self.objective == "focality" else " V/m"
        lines = [(f"placement search: {len(self.positions)} positions × {len(self.angles)} handle angles = "
                 f"{self.n_evaluations} evaluations, objective {self.objective} ({what})"),
                 (f"  best: centre {np.round(1e3 * self.pose.center, 2).tolist()} mm, handle "
                 f"{np.round(self.pose.handle, 4).tolist()} ({self.best_angle_deg:.1f}° from the reference), "
                 f"value {self.values[self.best]:.6g}{unit}")]
        if v:
            lines.append(f"  verified by a full FEM solve: E at target {np.round(v['E_solve'], 5).tolist()} V/m; "
                         f"ADM {np.round(v['E_adm'], 5).tolist()} (rel. diff {100 * v['rel_diff_adm']:.3f} %), "
                         f"direct reciprocity rel. diff {100 * v['rel_diff_direct']:.3f} %")
        setup = sum(t.get(k, 0.0) for k in ("solver setup", "reciprocal solves", "volume currents", "grid fields"))
        rate = self.n_evaluations / t["rotations"] if t.get("rotations") else float("inf")
        lines.append(f"  timings: setup {setup:.2f} s (solver {t.get('solver setup', 0):.2f}, reciprocal solves "
                     f"{t.get('reciprocal solves', 0):.2f}, fields on the grids {t.get('grid fields', 0):.2f}), "
                     f"rotations {t.get('rotations', 0):.3f} s ({rate:.3g} evaluations/s), "
                     f"verification {t.get('verification', 0):.2f} s")
        return "\n".join(lines)

    def save(self, path: str | os.PathLike) -> None:
        """Write the result atomically to the .npz ``path`` (arrays; settings as JSON)."""
        from ..solver.results import archive
        arrays = {"target": self.target, "direction": self.direction, "angles": self.angles, "values": self.values,
                  "E": self.E, "frames": self.positions.frames, "skin": self.positions.skin,
                  "normals": self.positions.normals, "pose_matrix": self.pose.matrix,
                  **{f"verification_{k}": v for k, v in self.verification.items() if isinstance(v, np.ndarray)}}
        scalars = {k: v for k, v in self.verification.items() if not isinstance(v, np.ndarray)}
        archive.write_archive(path, "PlacementResult", arrays,
                              {"objective": self.objective, "best": list(self.best), "verification": scalars,
                               "timings": self.timings, "provenance": self.provenance})

    @classmethod
    def load(cls, path: str | os.PathLike) -> PlacementResult:
        """The result written by :meth:`save`."""
        from ..solver.results import archive
        return placement_from_archive(*archive.read_archive(path, "PlacementResult"), path)


def placement_from_archive(record: dict, arrays: dict, path) -> PlacementResult:
    """The PlacementResult stored by :meth:`PlacementResult.save` (see ``tmsfield.load_result``)."""
    from ..solver.results.archive import need
    verification = {k[len("verification_"):]: v for k, v in arrays.items() if k.startswith("verification_")}
    verification.update(record.get("verification") or {})
    positions = ScalpPositions(need(arrays, "frames", path), need(arrays, "skin", path), need(arrays, "normals", path))
    return PlacementResult(need(arrays, "target", path), arrays.get("direction"), record["objective"], positions,
                           need(arrays, "angles", path), need(arrays, "values", path), need(arrays, "E", path),
                           tuple(int(i) for i in record["best"]), CoilPose(need(arrays, "pose_matrix", path)),
                           verification, dict(record.get("timings") or {}), dict(record.get("provenance") or {}))


def _projected_component(E: np.ndarray, direction) -> np.ndarray:
    """The objective field value: |E| from the three axes, or E·d from one direction."""
    if direction is None:
        return np.linalg.norm(E, axis=-1)
    return E[..., 0]


def _ring(head, target, normal, count, radius, allow_tags):
    u = np.cross(normal, [1.0, 0.0, 0.0] if abs(normal[0]) < 0.9 else [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    points = []
    for a in 2 * np.pi * np.arange(count) / count:
        p = target + radius * (np.cos(a) * u + np.sin(a) * v)
        try:
            locate_target(head, p, allow_tags=allow_tags)
        except PlacementError:
            continue
        points.append(p)
    if not points:
        raise PlacementError("no off-target point of the focality ring lies in the brain; give off_targets")
    return np.array(points)


@scoped_verbose
def optimize_placement(head, coil, target, *, direction=None, objective: str = "max", radius: float = 0.02,
                       n_positions: int = 100, angle_step_deg: float = 1.0, distance: float = 0.004,
                       handle=(0.0, 1.0, 0.0), didt: float = 1e6, solver=None, order: int = 2,
                       off_targets=None, grid: PolarGrid | None = None, n_radii: int = DEFAULT_RADII,
                       n_angles: int = DEFAULT_ANGLES, n_heights: int = DEFAULT_HEIGHTS, eps: float = FMM_EPS,
                       verify: bool = True, allow_tags=None, backend="auto",
                       verbose: bool | None = None) -> PlacementResult:
    """Search coil positions × handle angles around ``target`` for the strongest (or most
    focal) field there, by reciprocity and the auxiliary dipole method.

    Parameters
    ----------
    head : HeadMesh.   coil : Coil (dipoles and/or wire segments).
    target : (3,) m, in the brain (not bone/scalp; see ``allow_tags``).
    direction : None — maximise |E| (3 reciprocal solves); a 3-vector — maximise the signed
        component E·d (1 solve).
    objective : "max" (the field value above) or "focality": |E_target| / max |E_off| over
        ``off_targets`` (Q, 3) m (default: 6 points 15 mm from the target, parallel to the
        scalp), 3 more solves per off-target point.
    radius : search disc radius on the scalp (m); n_positions : positions in it.
    angle_step_deg : handle-angle step (360/step angles; any step — the ADM's rotations are
        trigonometric interpolants, exact at every angle for the resampled coil).
    distance : coil–scalp distance (m); handle : reference handle direction (angle 0).
    didt : coil current slope (A/s).   solver : a FEMSolver to reuse (else one of ``order``).
    grid / n_radii / n_angles / n_heights : the ADM polar grid (see :class:`PolarGrid`).
    eps : FMM precision of the reciprocal fields.   verify : run one full FEM solve on the winner.
    backend : for the solver built here ("auto" | "cpu" | "gpu"); on a GPU the reciprocal fields
        on the ADM grids are direct sums there instead of the FMM.

    Returns a :class:`PlacementResult`; ``result.matsimnibs`` is the winning pose (mm).
    """
    from ..solver.fem.solver import FEMSolver
    show = bool(verbose)
    check_choice(objective, OBJECTIVES, "objective")
    if not (np.isfinite(angle_step_deg) and 0 < angle_step_deg <= 360):
        raise TmsFieldError(f"angle step must be in (0, 360] degrees, got {angle_step_deg}")
    if not np.isfinite(didt) or didt == 0:
        raise TmsFieldError(f"dI/dt must be finite and non-zero, got {didt}")
    directions = None if direction is None else unit_direction(direction)
    locate_target(head, target, allow_tags=allow_tags)       # fail before any expensive setup
    timings: dict = {}
    t0 = time.perf_counter()
    if solver is None:
        with timed(timings, "solver setup"):
            solver = FEMSolver(head, order=order, backend=backend)
    elif solver.head is not head:
        raise TmsFieldError("the solver was built for another head")
    rf = ReciprocityField(solver, target, directions, verbose=show, allow_tags=allow_tags)
    for key, val in rf.timings.items():
        timings[key] = timings.get(key, 0.0) + val
    with timed(timings, "positions"):
        positions = scalp_positions(head, rf.target, radius=radius, n_positions=n_positions, distance=distance,
                                    handle=handle)
    grid = grid or PolarGrid.for_coil(coil, n_radii=n_radii, n_angles=n_angles, n_heights=n_heights)
    aux = AuxiliaryCoil.from_coil(coil, grid, didt=didt)
    angles = np.deg2rad(np.arange(0.0, 360.0 - 1e-9, angle_step_deg))
    E = orientation_maps(rf, aux, positions.frames, angles, timings=timings, eps=eps, verbose=show)
    values = _projected_component(E, directions)
    if objective == "focality":
        off = (_ring(head, rf.target, positions.normals[0], FOCALITY_POINTS, FOCALITY_RING, allow_tags)
               if off_targets is None else np.atleast_2d(np.asarray(off_targets, float)))
        worst = np.zeros_like(values)
        for point in off:
            other = ReciprocityField(solver, point, None, verbose=show, allow_tags=allow_tags)
            for key, val in other.timings.items():
                timings[key] = timings.get(key, 0.0) + val
            worst = np.maximum(worst, np.linalg.norm(orientation_maps(other, aux, positions.frames, angles,
                                                                      timings=timings, eps=eps), axis=-1))
        values = values / np.where(worst > 0, worst, np.inf)
    p, a = np.unravel_index(int(np.argmax(values)), values.shape)
    pose = CoilPose(positions.frames[p] @ handle_rotation(angles[a]))
    verification = {}
    if verify:
        with timed(timings, "verification"):
            verification = _verify(solver, rf, coil, pose, didt, E[p, a], directions)
    timings["total"] = time.perf_counter() - t0
    provenance = {"head": head.name, "n_tets": head.n_tets, "order": solver.order, "coil": coil.name,
                  "target_m": rf.target.tolist(), "direction": None if directions is None else directions.tolist(),
                  "objective": objective, "radius_m": radius, "n_positions": len(positions),
                  "angle_step_deg": angle_step_deg, "distance_m": distance, "didt": didt, "fmm_eps": eps,
                  "grid": {"n_radii": len(grid.radii), "n_angles": grid.n_angles, "n_heights": len(grid.heights)},
                  "cg_iterations": rf.iterations}
    result = PlacementResult(rf.target, directions, objective, positions, angles, values, E, (int(p), int(a)), pose,
                             verification, timings, provenance)
    log.info("%s", result.summary())
    return result


def _verify(solver, rf, coil, pose, didt, E_adm, direction) -> dict:
    """Full FEM solve of the winner; the field at the target against the predictions."""
    res = solver.solve(coil, pose, didt=didt)
    E_vec = res.sample(rf.target[None], interpolation="native")[0]
    E_solve = E_vec @ rf.directions.T                     # components along the reciprocal directions
    E_direct = rf.evaluate(coil, [pose], didt=didt)[0]
    scale = np.linalg.norm(E_solve)
    try:
        check_placement(solver.head, coil, pose)
        inside = False
    except PlacementError as exc:
        log.warning("the best placement puts the coil inside the head: %s", exc)
        inside = True
    return {"E_solve": E_solve, "E_adm": np.asarray(E_adm), "E_direct": E_direct, "E_vector_solve": E_vec,
            "rel_diff_adm": float(np.linalg.norm(E_adm - E_solve) / scale),
            "rel_diff_direct": float(np.linalg.norm(E_direct - E_solve) / scale),
            "rel_diff_adm_vs_direct": float(np.linalg.norm(E_adm - E_direct) / np.linalg.norm(E_direct)),
            "coil_inside_head": inside, "cg_iterations": res.provenance["solver"]["iterations"]}
