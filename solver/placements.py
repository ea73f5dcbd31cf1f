"""Many placements on one prepared solver: the loop shared by the FEM and BEM solvers."""
from __future__ import annotations

from ..core.errors import PlacementError
from ..core.progress import progress


class PlacementSolver:
    """Base of the FieldSolvers: subclasses implement ``solve(coil, pose, *, didt, method,
    backend, initial)`` returning a result whose ``unknowns`` can start the next solve."""

    def solve_many(self, coil, poses, *, didt=1e6, method: str = "auto", backend="auto",
                   warm_start: bool = True, verbose: bool = True) -> list:
        """One result per placement, reusing everything prepared for this head.

        ``coil`` is a Coil or a sequence of Coils (one per pose); ``poses`` a sequence of
        CoilPose or of 4×4 matrices (m). ``warm_start`` starts each iterative solve from the
        previous placement's solution (neighbouring poses, as in optimisation sweeps).
        A progress bar runs over the placements (silenced by ``verbose=False``).
        """
        poses = [_as_pose(p, i) for i, p in enumerate(poses)]
        coils = list(coil) if isinstance(coil, (list, tuple)) else [coil] * len(poses)
        if len(coils) != len(poses):
            raise PlacementError(f"got {len(coils)} coils for {len(poses)} poses")
        results = []
        for c, p in progress(list(zip(coils, poses)), desc="placements", verbose=verbose):
            start = results[-1].unknowns if warm_start and results else None
            results.append(self.solve(c, p, didt=didt, method=method, backend=backend, initial=start))
        return results


def _as_pose(pose, index: int):
    from ..coils.pose import CoilPose
    if isinstance(pose, CoilPose):
        return pose
    try:
        return CoilPose(pose)
    except PlacementError as exc:
        raise PlacementError(f"pose {index}: {exc}") from None
