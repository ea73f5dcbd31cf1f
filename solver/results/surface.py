"""SurfaceFieldResult: a BEM solution on surfaces only (no volume mesh), sampled anywhere."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...core.errors import FileFormatError
from ...head_models.io import write_mesh
from . import archive


@dataclasses.dataclass(eq=False)
class SurfaceFieldResult:
    """Induced field of a BEM solve on :class:`Interfaces` (SI units).

    interfaces : the surfaces.   density : (K,) facet charge densities (V/m, charge/ε0).
    charges : the ChargeField evaluating them.   dadt : callable points (P, 3) → ∂A/∂t (P, 3).
    pose, coil, didt, provenance, timings : as in FieldResult.
    """
    interfaces: object
    density: np.ndarray
    charges: object = dataclasses.field(repr=False)
    dadt: Callable = dataclasses.field(repr=False)
    pose: object = None
    coil: object = None
    didt: tuple = (1e6,)
    provenance: dict = dataclasses.field(default_factory=dict)
    timings: dict = dataclasses.field(default_factory=dict)

    @property
    def unknowns(self) -> np.ndarray:
        """The facet charges (warm start of the next placement)."""
        return self.density

    def sample(self, points) -> np.ndarray:
        """Total E = −∂A/∂t + E_charges (V/m) at ``points`` (P, 3) m off the surfaces, (P, 3)."""
        return self.charges.field(points, self.density) - self.dadt(np.asarray(points, dtype=float))

    def potential(self, points) -> np.ndarray:
        """Electric scalar potential of the charges (V) at ``points`` (P, 3) m, (P,)."""
        return self.charges.potential(points, self.density)

    def error_estimate(self, points):
        """The BEM's a-posteriori estimate at ``points`` (P, 3) m off the surfaces: an ErrorEstimate
        with |E_δ| (V/m) per point and ‖E_δ‖/‖E‖ over them, E_δ the field of the charge variation the
        constant facet charges miss (solver/bem/error_estimate.py)."""
        from ..bem.error_estimate import ChargeErrorField
        from .error_estimate import ErrorEstimate
        points = np.asarray(points, dtype=float)
        delta = ChargeErrorField(self.charges, self.density).field(points)
        relative = float(np.linalg.norm(delta) / np.linalg.norm(self.sample(points)))
        return ErrorEstimate(np.linalg.norm(delta, axis=1), relative, "points",
                             "charge recovery (linear charge variation)")

    def summary(self) -> str:
        """Two lines: the surfaces and solver, and the stage timings."""
        s = self.provenance.get("solver", {})
        times = ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items())
        return (f"BEM on {self.interfaces.name!r} ({self.interfaces.n_facets} facets), coil "
                f"{self.provenance.get('coil', '?')!r}, dI/dt {list(self.didt)} A/s, "
                f"{s.get('iterations', '?')} GMRES iterations\ntime: {times}")

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: .npz (surfaces, charges, coil, pose, provenance: what
        :func:`tmsfield.load_result` needs to restore it) or .vtu (surfaces with the charge
        density and the tissue tags on both sides as cell data)."""
        path, surf = Path(path), self.interfaces
        suffix = path.suffix.lower()
        if suffix == ".npz":
            record = {"name": surf.name, "coil_name": None if self.coil is None else self.coil.name,
                      "provenance": self.provenance, "timings": self.timings}
            arrays = {**archive.interface_arrays(surf, prefix=""), "density": self.density,
                      "didt": np.asarray(self.didt, dtype=float),
                      "pose_matrix": None if self.pose is None else self.pose.matrix, **archive.coil_arrays(self.coil)}
            archive.write_archive(path, "SurfaceFieldResult", arrays, record)
            return
        if suffix != ".vtu":
            raise FileFormatError(f"{path}: unsupported surface result format; use .vtu or .npz")
        import meshio
        mesh = meshio.Mesh(surf.vertices, [("triangle", surf.triangles)],
                           cell_data={"charge_density": [self.density], "tag_in": [surf.tag_in],
                                      "tag_out": [surf.tag_out]})
        write_mesh(mesh, path)


def surface_from_archive(record: dict, arrays: dict, path) -> SurfaceFieldResult:
    """The SurfaceFieldResult stored by :meth:`SurfaceFieldResult.save` as .npz, with its charge
    field rebuilt (and its primary field from the stored coil and pose: without a coil,
    ``sample`` raises and ``potential`` still works)."""
    import functools

    from ...core.errors import TmsFieldError
    from ..bem.charge_field import ChargeField
    from .restore import bem_options
    need = functools.partial(archive.need, path=path)
    for field in archive.INTERFACE_FIELDS:
        need(arrays, field)
    surf = archive.interfaces_from(arrays, prefix="", name=record.get("name", "interfaces"))
    coil, pose = archive.coil_from(arrays, record, path), archive.pose_from(arrays)
    didt = tuple(float(v) for v in need(arrays, "didt"))
    if coil is None:
        def dadt(points):
            raise TmsFieldError(f"{path}: no coil stored: the primary field is unknown")
    else:
        dadt = functools.partial(coil.dadt, pose=pose, didt=didt)
    provenance = archive.restore_keys(dict(record.get("provenance") or {}))
    charges = ChargeField(surf, options=bem_options(provenance.get("solver", {})))
    return SurfaceFieldResult(surf, need(arrays, "density"), charges, dadt, pose=pose, coil=coil, didt=didt,
                              provenance=provenance,
                              timings=dict(record.get("timings") or {}))
