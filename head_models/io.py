"""Reading and writing head meshes: gmsh .msh (v2/v4, ASCII/binary, optionally .gz) and .vtu.

On disk, .msh files follow SimNIBS (millimetres, tag = tissue number, surfaces 1000+tag);
.vtu files are in metres. Conversion to metres happens here and nowhere else. .msh files go
through the native reader/writer in :mod:`.gmsh_msh`; meshio handles .vtu.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, MeshError
from ..core.files import atomic_path
from ..core.units import length_scale
from .gmsh_msh import read_msh, write_msh
from .mesh import HeadMesh, compact_nodes

log = logging.getLogger("tmsfield")

#: cell-data names searched, in order, for the tissue tag of each element
TAG_FIELDS = ("gmsh:physical", "tissue", "tag")
DEFAULT_UNITS = {".msh": "mm", ".vtu": "m"}
#: a head is between these sizes (m); anything else means the units argument is wrong
PLAUSIBLE_EXTENT_M = (0.01, 1.0)


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _read_vtu(path: Path):
    """meshio.Mesh of a .vtu file (.msh files go through :func:`read_msh`)."""
    import meshio
    if path.suffix.lower() != ".vtu":
        raise FileFormatError(f"{path}: unsupported mesh format; use .msh, .msh.gz or .vtu")
    try:
        return meshio.read(path, file_format="vtu")
    except Exception as exc:  # meshio raises many types for truncated/corrupt files
        raise FileFormatError(f"{path}: cannot read as vtu mesh "
                              f"(truncated or corrupt?): {type(exc).__name__}: {exc}") from exc


def _cells(mesh, cell_type: str, path: Path):
    """Concatenated connectivity and tags of all blocks of ``cell_type``."""
    conn, tags = [], []
    field = next((f for f in TAG_FIELDS if f in mesh.cell_data), None)
    for i, block in enumerate(mesh.cells):
        if block.type != cell_type:
            continue
        conn.append(block.data)
        if field is None:
            raise FileFormatError(f"{path}: no tissue tags (cell data {TAG_FIELDS}) on {cell_type} cells")
        tags.append(np.asarray(mesh.cell_data[field][i]).reshape(-1))
    if not conn:
        return np.zeros((0, {"tetra": 4, "triangle": 3}[cell_type]), np.int64), np.zeros(0, np.int64)
    return np.concatenate(conn).astype(np.int64), np.concatenate(tags).astype(np.int64)


def _tagged_cells(path: Path):
    """Nodes (N, 3) in the file's units, tetrahedra (M, 4), their tags, triangles (K, 3) and
    their tags, from a .msh or .vtu file."""
    if _suffix(path) == ".msh":
        msh = read_msh(path)
        return msh.nodes, msh.tetrahedra, msh.tetrahedron_tags, msh.triangles, msh.triangle_tags
    mesh = _read_vtu(path)
    tets, tags = _cells(mesh, "tetra", path)
    tris, tri_tags = _cells(mesh, "triangle", path)
    return np.asarray(mesh.points, dtype=np.float64)[:, :3], tets, tags, tris, tri_tags


def load_head(path: str | os.PathLike, *, units: str | None = None, name: str | None = None) -> HeadMesh:
    """Read a tagged tetrahedral head mesh; node coordinates are returned in metres.

    Parameters
    ----------
    path : .msh (gmsh 2.2 or 4.1, ASCII or binary, optionally gzipped) or .vtu.
    units : length unit of the file; default "mm" for .msh (SimNIBS), "m" for .vtu.
    name : label for the head (default: the file name).

    Nodes that belong to no element are dropped (logged). Errors name the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    units = units or DEFAULT_UNITS.get(_suffix(path), "m")
    scale = length_scale(units)
    nodes, tets, tags, tris, tri_tags = _tagged_cells(path)
    if not len(tets):
        raise FileFormatError(f"{path}: contains no tetrahedra (a volume mesh is needed)")
    nodes = nodes * scale
    extent = float(np.ptp(nodes, axis=0).max())
    if not PLAUSIBLE_EXTENT_M[0] <= extent <= PLAUSIBLE_EXTENT_M[1]:
        raise FileFormatError(f"{path}: mesh is {extent:.3g} m across with units={units!r}; "
                              "a head is 0.01-1 m: pass the right units=")
    try:
        head = compact_nodes(nodes, tets, tags, tris, tri_tags, name or path.name)
    except MeshError as exc:
        raise MeshError(f"{path}: {exc}") from exc
    dropped = len(nodes) - head.n_nodes
    if dropped:
        log.warning("%s: dropped %d node(s) that belong to no tetrahedron", path, dropped)
    log.info("loaded %s: %d nodes, %d tetrahedra, tags %s", path, head.n_nodes, head.n_tets,
             head.tissue_tags)
    return head


def to_meshio(head: HeadMesh, *, units: str = "m", cell_data=None, point_data=None):
    """meshio.Mesh of ``head`` (triangles, then tetrahedra) with extra data.

    ``cell_data`` maps name -> per-tetrahedron array (M, ...); triangles get zeros.
    """
    import meshio
    cells, tags = [], []
    if len(head.triangles):
        cells.append(("triangle", head.triangles.astype(np.int32)))
        tags.append(head.triangle_tags.astype(np.int32))
    cells.append(("tetra", head.tets.astype(np.int32)))
    tags.append(head.tags.astype(np.int32))
    data = {"gmsh:physical": tags, "gmsh:geometrical": tags}
    for key, values in (cell_data or {}).items():
        values = np.asarray(values, dtype=np.float64)
        blocks = [np.zeros((len(head.triangles),) + values.shape[1:])] if len(head.triangles) else []
        data[key] = blocks + [values]
    return meshio.Mesh(head.nodes / length_scale(units), cells, point_data=point_data or {},
                       cell_data=data)


def _joined(mesh, per_block: list, cell_type: str) -> list:
    """The per-block arrays of ``per_block`` (meshio cell data) that belong to ``cell_type``."""
    return [np.asarray(per_block[i]) for i, block in enumerate(mesh.cells) if block.type == cell_type]


def _write_msh_from_meshio(mesh, path: Path) -> None:
    """``mesh`` (triangles and tetrahedra, tags from ``TAG_FIELDS``) through :func:`write_msh`;
    cell data is concatenated over the triangle blocks, then the tetrahedron blocks."""
    extra = sorted({block.type for block in mesh.cells} - {"triangle", "tetra"})
    if extra:
        raise FileFormatError(f"{path}: .msh output holds triangles and tetrahedra only, not {extra}")
    tris, tets = _cells(mesh, "triangle", path), _cells(mesh, "tetra", path)
    element_data = {name: np.concatenate(_joined(mesh, blocks, "triangle") + _joined(mesh, blocks, "tetra"))
                    for name, blocks in mesh.cell_data.items() if not name.startswith("gmsh:")}
    node_data = {name: values for name, values in mesh.point_data.items() if not name.startswith("gmsh:")}
    write_msh(path, np.asarray(mesh.points, dtype=np.float64), triangles=tris[0], triangle_tags=tris[1],
              tetrahedra=tets[0], tetrahedron_tags=tets[1], node_data=node_data, element_data=element_data)


def write_mesh(mesh, path: str | os.PathLike) -> None:
    """Write a meshio mesh atomically: .msh as gmsh 2.2 binary in the SimNIBS layout
    (:func:`~.gmsh_msh.write_msh`; triangles, tetrahedra, "gmsh:physical" tags, point and
    cell data), .vtu as XML binary."""
    path = Path(path)
    fmt = _suffix(path)
    if fmt not in (".msh", ".vtu") or path.suffix.lower() == ".gz":
        raise FileFormatError(f"{path}: unsupported output format; use .msh or .vtu")
    if fmt == ".msh":
        _write_msh_from_meshio(mesh, path)
        return
    with atomic_path(path) as tmp:
        mesh.write(tmp, file_format="vtu")


def save_head(head: HeadMesh, path: str | os.PathLike, *, units: str | None = None) -> None:
    """Write ``head`` to .msh (SimNIBS convention, mm by default) or .vtu (m by default)."""
    path = Path(path)
    units = units or DEFAULT_UNITS.get(_suffix(path), "m")
    write_mesh(to_meshio(head, units=units), path)


#: cell-data names searched for conductivity tensors in mesh files
TENSOR_FIELDS = ("sigma", "conductivity", "conductivity_tensor")


def load_tensors(path: str | os.PathLike, n_elements: int | None = None) -> np.ndarray:
    """Per-tetrahedron conductivity tensors (M, 3, 3) in S/m from .npy, .npz (array "sigma")
    or a mesh file (.msh/.vtu, tetrahedron cell data named one of ``TENSOR_FIELDS``, 9 values)."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    suffix = _suffix(path)
    try:
        if suffix == ".npy":
            data = np.load(path)
        elif suffix == ".npz":
            with np.load(path) as archive:
                data = archive["sigma"] if "sigma" in archive else archive[archive.files[0]]
        elif suffix == ".msh":
            element_data = read_msh(path).element_data
            name = next((n for n in TENSOR_FIELDS if n in element_data), None)
            if name is None:
                raise FileFormatError(f"{path}: no $ElementData named one of {TENSOR_FIELDS}")
            data = element_data[name]
        else:
            mesh = _read_vtu(path)
            name = next((n for n in TENSOR_FIELDS if n in mesh.cell_data), None)
            if name is None:
                raise FileFormatError(f"{path}: no cell data named one of {TENSOR_FIELDS}")
            data = np.concatenate([np.asarray(mesh.cell_data[name][i]).reshape(len(b.data), -1)
                                   for i, b in enumerate(mesh.cells) if b.type == "tetra"])
    except FileFormatError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise FileFormatError(f"{path}: cannot read conductivity tensors ({exc})") from exc
    data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    if data.shape[1] != 9 or (n_elements is not None and len(data) != n_elements):
        raise FileFormatError(f"{path}: expected {n_elements or 'M'} tensors of 9 values, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise FileFormatError(f"{path}: conductivity tensors hold NaN or inf (no value for some tetrahedra?)")
    return data.reshape(-1, 3, 3)
