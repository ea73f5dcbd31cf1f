"""Field data for plots: scalar quantities of E, tissue-region surfaces, volume grids.

Results are duck-typed: anything with ``head`` (a HeadMesh) and ``E`` ((M, 3) V/m per
tetrahedron) plots — a :class:`~tmsfield.FieldResult` or the field read back from a
``tmsfield simulate`` folder. Surface values are those of the tetrahedron on the tissue's own
side of each triangle (no blending across an interface); ``smooth`` averages them onto the
vertices, area-weighted, for Gouraud shading.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.checks import check_choice
from ..core.errors import TmsFieldError
from ..head_models import geometry
from ..head_models.geometry import triangle_normals
from ..head_models.surfaces import boundary_faces
from ..head_models.tissues import BRAIN_TAGS  # grey and white matter: the "cortex" is their outer boundary

QUANTITIES = ("magnitude", "x", "y", "z", "normal")
_LABELS = {"magnitude": "E magnitude (V/m)", "x": "Ex (V/m)", "y": "Ey (V/m)", "z": "Ez (V/m)",
           "normal": "E normal, outward (V/m)"}


def quantity_label(quantity: str) -> str:
    """Scalar-bar title of a quantity, e.g. "E magnitude (V/m)" (VTK's text drops "|")."""
    check_quantity(quantity)
    return _LABELS[quantity]


def check_quantity(quantity: str, *, normals: bool = True) -> None:
    """Raise a TmsFieldError unless ``quantity`` is one of ``QUANTITIES`` (without "normal"
    where there is no surface normal)."""
    check_choice(quantity, QUANTITIES if normals else QUANTITIES[:-1], "quantity")


def field_quantity(E: np.ndarray, quantity: str, normals: np.ndarray | None = None) -> np.ndarray:
    """Scalar per row of ``E`` (P, 3): magnitude, one Cartesian component, or the component
    along ``normals`` (P, 3) (for "normal")."""
    check_quantity(quantity, normals=normals is not None)
    E = np.asarray(E, dtype=float)
    if quantity == "magnitude":
        return np.linalg.norm(E, axis=1)
    if quantity == "normal":
        return np.einsum("pi,pi->p", E, normals)
    return E[:, "xyz".index(quantity)]


def signed(quantity: str) -> bool:
    """Whether a quantity takes both signs (components do, the magnitude does not)."""
    return quantity != "magnitude"


def default_clim(values: np.ndarray, *, symmetric: bool) -> tuple[float, float]:
    """Colour range: [0, 99.9th percentile] or, for signed values, ± the 99.9th percentile of
    |values| (robust to the few sliver elements that carry outliers)."""
    finite = np.asarray(values, float)[np.isfinite(values)]
    if not len(finite):
        return (0.0, 1.0)
    if symmetric:
        top = float(np.percentile(np.abs(finite), 99.9)) or 1.0
        return (-top, top)
    top = float(np.percentile(finite, 99.9))
    return (0.0, top if top > 0 else 1.0)


@dataclasses.dataclass
class Surface:
    """A triangle surface with unit normals and, when cut out of the mesh, the tetrahedron
    behind each triangle (``owner``, -1 for surfaces sampled by position)."""
    vertices: np.ndarray
    triangles: np.ndarray
    normals: np.ndarray
    owner: np.ndarray
    name: str

    def to_pyvista(self):
        """The surface as ``pyvista.PolyData``."""
        import pyvista as pv
        faces = np.hstack([np.full((len(self.triangles), 1), 3), self.triangles]).ravel()
        return pv.PolyData(self.vertices, faces)


def region_boundary(head, tags, name: str = "") -> Surface:
    """Boundary of the union of the tetrahedra with ``tags``, triangles oriented outward,
    each with the tetrahedron (of that region) behind it. Vertices are compacted."""
    select = np.flatnonzero(np.isin(head.tags, list(tags)))
    if not len(select):
        raise TmsFieldError(f"head {head.name!r} has no tetrahedra with tags {sorted(tags)}")
    faces, owner = boundary_faces(head.tets[select])
    owner = select[owner]
    used, compact = np.unique(faces, return_inverse=True)
    vertices = head.nodes[used]
    triangles = compact.reshape(-1, 3)
    normals, _ = triangle_normals(vertices, triangles)
    return Surface(vertices, triangles, normals, owner, name or f"boundary of tags {sorted(tags)}")


def cortex_tags(head) -> tuple[int, ...]:
    """Tags whose outer boundary is the "cortex": grey + white matter where present, else the
    innermost tissue (lowest tag, e.g. the CSF core of a sphere model)."""
    present = [t for t in BRAIN_TAGS if t in head.tissue_tags]
    return tuple(present) if present else (min(head.tissue_tags),)


def named_surface(head, surface) -> Surface:
    """A surface of ``head`` by name — "cortex" (outer grey-matter boundary, or the innermost
    interface without grey matter), "scalp" (the outer boundary), "midsurface" (halfway
    through the grey matter) — or a user surface given as (vertices, triangles) or PolyData."""
    if isinstance(surface, str):
        if surface == "cortex":
            tags = cortex_tags(head)
            label = "grey matter" if 2 in tags else f"tag-{tags[0]} surface"
            return region_boundary(head, tags, label)
        if surface == "scalp":
            return region_boundary(head, head.tissue_tags, "scalp")
        if surface == "midsurface":
            vertices, triangles = head.grey_matter_midsurface()
            return _loose_surface(vertices, triangles, "grey-matter mid-surface")
        raise TmsFieldError(f"surface must be 'cortex', 'scalp', 'midsurface' or (vertices, triangles), "
                            f"got {surface!r}")
    if hasattr(surface, "faces") and hasattr(surface, "points"):          # pyvista.PolyData
        tri = surface.triangulate()
        return _loose_surface(np.asarray(tri.points), np.asarray(tri.faces).reshape(-1, 4)[:, 1:], "surface")
    try:
        vertices, triangles = surface
    except (TypeError, ValueError):
        raise TmsFieldError("a surface is a name or a (vertices (n, 3) m, triangles (k, 3)) pair") from None
    return _loose_surface(vertices, triangles, "surface")


def _loose_surface(vertices, triangles, name) -> Surface:
    vertices = np.asarray(vertices, float)
    triangles = np.asarray(triangles, np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or triangles.ndim != 2 or triangles.shape[1] != 3:
        raise TmsFieldError(f"{name}: vertices must be (n, 3) and triangles (k, 3), got "
                            f"{vertices.shape} and {triangles.shape}")
    if len(triangles) and (triangles.min() < 0 or triangles.max() >= len(vertices)):
        raise TmsFieldError(f"{name}: triangle indices out of range 0..{len(vertices) - 1}")
    normals, _ = triangle_normals(vertices, triangles)
    return Surface(vertices, triangles, normals, np.full(len(triangles), -1), name)


def surface_values(result, surface: Surface, quantity: str, *, smooth: bool = True):
    """Values of ``quantity`` on ``surface``: per triangle from the owning tetrahedron (cut
    surfaces) or per vertex by ``result.sample`` (user surfaces; NaN outside the mesh).

    Returns ``(values, on_points)``: with ``smooth`` the triangle values are averaged onto the
    vertices (area-weighted), and ``on_points`` is True.
    """
    check_quantity(quantity)
    if (surface.owner >= 0).all():
        values = field_quantity(np.asarray(result.E)[surface.owner], quantity, surface.normals)
        if not smooth:
            return values, False
        _, areas = triangle_normals(surface.vertices, surface.triangles)
        total = np.bincount(surface.triangles.ravel(), np.repeat(areas * values, 3), len(surface.vertices))
        weight = np.bincount(surface.triangles.ravel(), np.repeat(areas, 3), len(surface.vertices))
        return total / np.where(weight > 0, weight, 1.0), True
    if not hasattr(result, "sample"):
        raise TmsFieldError("this result cannot be sampled at points; plot a named surface instead")
    E = result.sample(surface.vertices)
    normals = vertex_normals(surface) if quantity == "normal" else None
    return field_quantity(E, quantity, normals), True


def vertex_normals(surface: Surface) -> np.ndarray:
    """Area-weighted unit vertex normals (n, 3) of a surface (its triangles' oriented normals)."""
    return geometry.vertex_normals(surface.vertices, surface.triangles, surface.normals)


def volume_grid(head, cell_data: dict | None = None):
    """The head as a ``pyvista.UnstructuredGrid`` of tetrahedra with ``cell_data`` and tags."""
    import pyvista as pv
    grid = pv.UnstructuredGrid({pv.CellType.TETRA: np.asarray(head.tets)}, np.asarray(head.nodes))
    grid.cell_data["tag"] = np.asarray(head.tags)
    for name, values in (cell_data or {}).items():
        grid.cell_data[name] = np.asarray(values)
    return grid


def check_result(result, what: str = "result") -> None:
    """Raise a TmsFieldError unless ``result`` has a tetrahedral ``head`` and one E row per
    tetrahedron."""
    head = getattr(result, "head", None)
    E = getattr(result, "E", None)
    if head is None or not hasattr(head, "tets") or E is None:
        raise TmsFieldError(f"{what}: expected a FieldResult (head with tetrahedra and E per tetrahedron)")
    if np.shape(E) != (head.n_tets, 3):
        raise TmsFieldError(f"{what}: E has shape {np.shape(E)}, expected ({head.n_tets}, 3)")
