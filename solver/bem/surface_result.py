"""SurfaceFieldResult: a BEM solution on surfaces only (no volume mesh), sampled anywhere."""
from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...core.errors import FileFormatError
from ...core.files import atomic_path
from ...head_models.io import write_mesh
from ..result import provenance_record


@dataclasses.dataclass(eq=False)
class SurfaceFieldResult:
    """Induced field of a BEM solve on :class:`Interfaces` (SI units).

    interfaces : the surfaces.   density : (K,) facet charge densities (V/m, charge/ε0).
    charges : the ChargeField evaluating them.   dadt : callable points (P, 3) → ∂A/∂t (P, 3).
    pose, didt, provenance, timings : as in FieldResult.
    """
    interfaces: object
    density: np.ndarray
    charges: object = dataclasses.field(repr=False)
    dadt: Callable = dataclasses.field(repr=False)
    pose: object = None
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

    def summary(self) -> str:
        """Two lines: the surfaces and solver, and the stage timings."""
        s = self.provenance.get("solver", {})
        times = ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items())
        return (f"BEM on {self.interfaces.name!r} ({self.interfaces.n_facets} facets), coil "
                f"{self.provenance.get('coil', '?')!r}, dI/dt {list(self.didt)} A/s, "
                f"{s.get('iterations', '?')} GMRES iterations\ntime: {times}")

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: .npz (surfaces, charges, provenance) or .vtu (surfaces with the
        charge density and the tissue tags on both sides as cell data)."""
        path, surf = Path(path), self.interfaces
        suffix = path.suffix.lower()
        if suffix == ".npz":
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.savez_compressed(fh, vertices=surf.vertices, triangles=surf.triangles, density=self.density,
                                    tag_in=surf.tag_in, tag_out=surf.tag_out,
                                    provenance=json.dumps(provenance_record(self)))
            return
        if suffix != ".vtu":
            raise FileFormatError(f"{path}: unsupported surface result format; use .vtu or .npz")
        import meshio
        mesh = meshio.Mesh(surf.vertices, [("triangle", surf.triangles)],
                           cell_data={"charge_density": [self.density], "tag_in": [surf.tag_in],
                                      "tag_out": [surf.tag_out]})
        write_mesh(mesh, path)
