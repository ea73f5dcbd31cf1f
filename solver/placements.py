"""Many placements on one prepared solver: the loop shared by the FEM and BEM solvers."""
from __future__ import annotations

from ..core.errors import PlacementError
from ..core.progress import progress

#: placements solved together by :meth:`PlacementSolver.solve_many` (FEM: one block-CG solve;
#: 8 columns took 32 block iterations where one alone takes 47, P2 on 194k tetrahedra)
BATCH_SIZE = 8


class PlacementSolver:
    """Base of the FieldSolvers: subclasses implement ``solve(coil, pose, *, didt, method,
    backend, initial)`` returning a result whose ``unknowns`` can start the next solve, and may
    override :meth:`solve_batch` to solve several placements together."""

    def solve_many(self, coil, poses, *, didt=1e6, method: str = "auto", backend="auto",
                   warm_start: bool = True, batch_size: int = BATCH_SIZE, verbose: bool = True) -> list:
        """One result per placement, reusing everything prepared for this head.

        ``coil`` is a Coil or a sequence of Coils (one per pose); ``poses`` a sequence of
        CoilPose or of 4×4 matrices (m). Placements are solved ``batch_size`` at a time
        (:meth:`solve_batch`); ``warm_start`` starts each batch from the previous batch's
        solutions (neighbouring poses, as in optimisation sweeps). A progress bar runs over
        the placements (silenced by ``verbose=False``).
        """
        poses = [_as_pose(p, i) for i, p in enumerate(poses)]
        coils = list(coil) if isinstance(coil, (list, tuple)) else [coil] * len(poses)
        if len(coils) != len(poses):
            raise PlacementError(f"got {len(coils)} coils for {len(poses)} poses")
        size = int(batch_size)
        if size < 1:
            raise PlacementError(f"batch_size must be a positive integer, got {batch_size}")
        results = []
        with progress(total=len(poses), desc="placements", verbose=verbose) as bar:
            for start in range(0, len(poses), size):
                chunk = slice(start, start + size)
                previous = results[-size:] if warm_start else None
                results += self.solve_batch(coils[chunk], poses[chunk], didt=didt, method=method,
                                            backend=backend, previous=previous)
                bar.update(len(results) - bar.n)
        return results

    def solve_batch(self, coils, poses, *, didt, method, backend, previous) -> list:
        """Results for paired ``coils`` and ``poses``. ``previous`` (earlier results, possibly
        none) may start the iterative solves; None: every solve starts cold. This default
        solves one placement after the other, each started from the last."""
        results, last = [], (previous or [])[-1:]
        for c, p in zip(coils, poses):
            start = last[0].unknowns if last else None
            results.append(self.solve(c, p, didt=didt, method=method, backend=backend, initial=start))
            last = results[-1:] if previous is not None else []
        return results


def _as_pose(pose, index: int):
    from ..coils.pose import CoilPose
    if isinstance(pose, CoilPose):
        return pose
    try:
        return CoilPose(pose)
    except PlacementError as exc:
        raise PlacementError(f"pose {index}: {exc}") from None
