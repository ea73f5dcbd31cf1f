"""Reading and writing head meshes: gmsh .msh (v2/v4, ASCII/binary, optionally .gz) and .vtu.

On disk, .msh files follow SimNIBS (millimetres, tag = tissue number, surfaces 1000+tag);
.vtu files are in metres. Conversion to metres happens here and nowhere else. .msh files go
through the native reader/writer in :mod:`.gmsh_msh`; meshio handles .vtu.
"""
from __future__ import annotations

import logging
import os
import threading
import zlib
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, MeshError
from ..core.files import atomic_path
from ..core.units import LENGTH_SCALE, length_scale
from . import gmsh_msh
from .gmsh_msh import read_msh, write_msh
from .mesh import HeadMesh, compact_nodes
from .quality import LocatedMeshError, check_indices

log = logging.getLogger("tmsfield")

#: cell-data names searched, in order, for the tissue tag of each element
TAG_FIELDS = ("gmsh:physical", "tissue", "tag")
DEFAULT_UNITS = {".msh": "mm", ".vtu": "m"}
#: the largest extent (m) of a head mesh lies in this range (adult heads ~0.15-0.25 m, with neck
#: ~0.3 m; a 5 cm patch of a head still passes); outside it the units argument is wrong (a head
#: in cm read as mm is ~0.02 m, one in mm read as cm ~2 m). Pass ``plausible_extent_m=`` to
#: ``load_head`` for other models (animals, phantoms)
PLAUSIBLE_EXTENT_M = (0.03, 0.5)


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


class _InflationCap(threading.local):
    """What the compressed blocks of the .vtu file being read in this thread may still
    inflate to (bytes); None outside :func:`_read_vtu`."""
    left: int | None = None
    cap: int = 0
    ratio: int | None = None
    size: int = 0


_VTU_INFLATION = _InflationCap()


class _VtuInflationError(FileFormatError):
    """The compressed data of a .vtu file inflate to more than the cap."""


class _CappedCodec:
    """Stands in for the zlib/lzma module in meshio's vtu reader: ``decompress`` stops at the
    budget of :data:`_VTU_INFLATION` (meshio inflates every block in full, so a small zlib
    .vtu could take gigabytes); outside :func:`_read_vtu` it is the module itself."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def decompress(self, data, *args, **kwargs):
        left = _VTU_INFLATION.left
        if left is None:
            return self._module.decompress(data, *args, **kwargs)
        if self._module is zlib:
            stream = zlib.decompressobj()
        else:
            stream = self._module.LZMADecompressor()
        out = stream.decompress(data, left + 1)
        if len(out) > left:
            raise _VtuInflationError("inflates beyond the cap")
        if not stream.eof:
            raise ValueError("incomplete or truncated compressed block")
        _VTU_INFLATION.left = left - len(out)
        return out


def _capped_meshio_vtu():
    """meshio's vtu module with its decompressors capped (installed once)."""
    from meshio.vtu import _vtu
    for name in ("zlib", "lzma"):
        module = getattr(_vtu, name, None)
        if module is not None and not isinstance(module, _CappedCodec):
            setattr(_vtu, name, _CappedCodec(module))
    return _vtu


def _read_vtu(path: Path, max_bytes: int | None = None):
    """meshio.Mesh of a .vtu file (.msh files go through :func:`read_msh`).

    The file may hold at most ``max_bytes`` (default :data:`gmsh_msh.MAX_BYTES`), and its
    compressed arrays may inflate to at most that much in all (without an explicit
    ``max_bytes`` also to at most :data:`gmsh_msh.GZIP_MAX_RATIO` times the file size, past
    :data:`gmsh_msh.GZIP_RATIO_FLOOR`). meshio's own failures, SystemExit included, become
    :class:`FileFormatError`.
    """
    if path.suffix.lower() != ".vtu":
        raise FileFormatError(f"{path}: unsupported mesh format; use .msh, .msh.gz or .vtu")
    cap = gmsh_msh.MAX_BYTES if max_bytes is None else int(max_bytes)
    raise_it = f"if the mesh is genuine, pass max_bytes= (e.g. max_bytes={4 * max(cap, 1)})"
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if size > cap:
        raise FileFormatError(f"{path}: the file is {size} bytes, more than the cap of {cap} "
                              f"(max_bytes={cap}); {raise_it}")
    limit, ratio = cap, None
    if max_bytes is None and gmsh_msh.GZIP_MAX_RATIO * size < cap:
        limit = min(cap, max(gmsh_msh.GZIP_RATIO_FLOOR, gmsh_msh.GZIP_MAX_RATIO * size))
        ratio = gmsh_msh.GZIP_MAX_RATIO if limit < cap else None
    try:
        vtu = _capped_meshio_vtu()
        _VTU_INFLATION.left = limit
        try:
            return vtu.read(str(path))     # not meshio.read: that prints and calls sys.exit
        finally:
            _VTU_INFLATION.left = None
    except _VtuInflationError:
        why = (f"more than {ratio} times the file size of {size} bytes" if ratio
               else f"more than the cap of {cap} bytes (max_bytes={cap})")
        raise FileFormatError(f"{path}: the compressed arrays of the .vtu inflate to {why}: a "
                              f"decompression bomb, or an unusually large mesh; {raise_it}") from None
    except (Exception, SystemExit) as exc:  # meshio raises many types for corrupt files
        raise FileFormatError(f"{path}: cannot read as vtu mesh "
                              f"(truncated or corrupt?): {type(exc).__name__}: {exc}") from None


def _integral(values, path: Path, what: str) -> np.ndarray:
    """``values`` as int64; every one must be a finite integer that fits."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
            raise FileFormatError(f"{path}: {what} hold values beyond int64: the file is corrupt")
        return array.astype(np.int64)
    if array.dtype.kind != "f":
        raise FileFormatError(f"{path}: {what} are {array.dtype}, not integers: the file is corrupt")
    with np.errstate(invalid="ignore"):
        ints = array.astype(np.int64)
    if not (np.isfinite(array) & (ints == array)).all():
        raise FileFormatError(f"{path}: {what} hold non-integer values: the file is corrupt")
    return ints


def _cells(mesh, cell_type: str, path: Path, *, with_index: bool = False):
    """Concatenated connectivity and tags of all blocks of ``cell_type`` (and, with
    ``with_index``, the number of each cell among all cells of the file, 0-based)."""
    conn, tags, index = [], [], []
    k = {"tetra": 4, "triangle": 3}[cell_type]
    field = next((f for f in TAG_FIELDS if f in mesh.cell_data), None)
    start = 0
    for i, block in enumerate(mesh.cells):
        data = np.asarray(block.data)
        if block.type == cell_type:
            if data.ndim != 2 or data.shape[1] != k:
                raise FileFormatError(f"{path}: {cell_type} cells with {data.shape} node indices")
            if field is None:
                raise FileFormatError(f"{path}: no tissue tags (cell data {TAG_FIELDS}) on {cell_type} cells")
            block_tags = np.asarray(mesh.cell_data[field][i]).reshape(-1)
            if len(block_tags) != len(data):
                raise FileFormatError(f"{path}: {len(block_tags)} {field!r} tags for {len(data)} "
                                      f"{cell_type} cells: the file is corrupt")
            conn.append(_integral(data, path, f"{cell_type} node indices"))
            tags.append(_integral(block_tags, path, f"{field!r} tags"))
            index.append(np.arange(start, start + len(data)))
        start += len(data)
    if not conn:
        empty = np.zeros((0, k), np.int64), np.zeros(0, np.int64)
        return empty + (np.zeros(0, np.int64),) if with_index else empty
    out = np.concatenate(conn), np.concatenate(tags)
    return out + (np.concatenate(index),) if with_index else out


class _FileMesh:
    """Arrays of a mesh file in its units, and how the file names nodes and elements."""

    def __init__(self, nodes, tets, tags, tris, tri_tags, node_ids, tet_ids, tri_ids, kind):
        self.nodes, self.tets, self.tags, self.tris, self.tri_tags = nodes, tets, tags, tris, tri_tags
        self.node_ids, self.tet_ids, self.tri_ids = node_ids, tet_ids, tri_ids
        node_noun, element_noun, note = kind
        self.node_label = self._labeler(node_noun, node_ids, note)
        self.tet_label = self._labeler(element_noun, tet_ids, note)
        self.tri_label = self._labeler(element_noun, tri_ids, note)

    @staticmethod
    def _labeler(noun, ids, note):
        from .quality import _first
        return lambda rows: f"{noun}(s) {_first(ids[np.asarray(rows, dtype=np.int64)])} ({note})"


def _tagged_cells(path: Path, max_bytes: int | None = None) -> _FileMesh:
    """Nodes (N, 3) in the file's units, tetrahedra (M, 4), their tags, triangles (K, 3) and
    their tags, with the file's ids, from a .msh or .vtu file."""
    if _suffix(path) == ".msh":
        msh = read_msh(path, max_bytes=max_bytes)
        return _FileMesh(msh.nodes, msh.tetrahedra, msh.tetrahedron_tags, msh.triangles,
                         msh.triangle_tags, msh.node_ids, msh.tetrahedron_ids, msh.triangle_ids,
                         ("node id", "element id", "gmsh ids, as in the file"))
    mesh = _read_vtu(path, max_bytes)
    try:
        tets, tags, tet_index = _cells(mesh, "tetra", path, with_index=True)
        tris, tri_tags, tri_index = _cells(mesh, "triangle", path, with_index=True)
        points = np.asarray(mesh.points)
        if points.ndim != 2 or points.shape[1] != 3 or points.dtype.kind not in "iuf":
            raise FileFormatError(f"{path}: points have shape {points.shape} and type "
                                  f"{points.dtype}; a mesh needs (N, 3) numbers")
        nodes = points.astype(np.float64)
    except FileFormatError:
        raise
    except Exception as exc:   # whatever meshio handed back, malformed
        raise FileFormatError(f"{path}: cannot read as vtu mesh (corrupt?): "
                              f"{type(exc).__name__}: {exc}") from None
    return _FileMesh(nodes, tets, tags, tris, tri_tags, np.arange(len(nodes)), tet_index,
                     tri_index, ("point", "cell", "0-based, as in the file"))


def _implausible_extent(path: Path, extent_m: float, units: str, bounds) -> FileFormatError:
    """The error for a mesh ``extent_m`` across (read with ``units``) outside ``bounds``."""
    lo, hi = bounds
    in_file = extent_m / length_scale(units)
    fits = [f"units={u!r} ({in_file * s:.3g} m)" for u, s in LENGTH_SCALE.items()
            if u != units and lo <= in_file * s <= hi]
    hint = (f"with {' or '.join(fits)} it would be head-sized: pass the right units="
            if fits else "no length unit makes it head-sized: is it a head mesh?")
    return FileFormatError(f"{path}: the mesh is {extent_m:.3g} m across with units={units!r}, "
                           f"but a head is {lo:g}-{hi:g} m across; {hint} (or pass "
                           "plausible_extent_m=None for a model that is not a human head)")


def load_head(path: str | os.PathLike, *, units: str | None = None, name: str | None = None,
              max_bytes: int | None = None,
              plausible_extent_m: tuple[float, float] | None = PLAUSIBLE_EXTENT_M) -> HeadMesh:
    """Read a tagged tetrahedral head mesh; node coordinates are returned in metres.

    Parameters
    ----------
    path : .msh (gmsh 2.2 or 4.1, ASCII or binary, optionally gzipped) or .vtu.
    units : length unit of the file; default "mm" for .msh (SimNIBS), "m" for .vtu.
    name : label for the head (default: the file name).
    max_bytes : cap on the file size and on what its compressed data (.msh.gz, zlib/lzma
        .vtu) inflate to; default 2 GiB, and without it compressed data may also inflate at
        most 100-fold (see :func:`~.gmsh_msh.read_msh`). Raise it for a genuine larger mesh.
    plausible_extent_m : (min, max) size of the mesh in metres (default
        :data:`PLAUSIBLE_EXTENT_M`, a human head); a mesh outside it was read with the wrong
        ``units``. None turns the check off (animal heads, phantoms).

    Nodes that belong to no element are dropped (logged). The mesh must be sound: node
    indices in range, no duplicate tetrahedra, no duplicated nodes (cracks), no face shared by
    more than two tetrahedra, no inverted or degenerate tetrahedra. Every error is a
    :class:`~tmsfield.core.errors.TmsFieldError` (FileFormatError or MeshError) that names the
    file and the nodes/elements by their ids in the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    units = units or DEFAULT_UNITS.get(_suffix(path), "m")
    scale = length_scale(units)
    mesh = _tagged_cells(path, max_bytes)
    nodes, tets, tags, tris, tri_tags = mesh.nodes, mesh.tets, mesh.tags, mesh.tris, mesh.tri_tags
    if not len(tets):
        raise FileFormatError(f"{path}: contains no tetrahedra (a volume mesh is needed)")
    for conn, what, label in ((tets, "tetrahedra", mesh.tet_label), (tris, "triangles", mesh.tri_label)):
        try:
            check_indices(conn, len(nodes), what)
        except LocatedMeshError as exc:
            raise MeshError(f"{path}: {exc.render(mesh.node_label, label)}") from None
    nodes = nodes * scale
    try:
        head = compact_nodes(nodes, tets, tags, tris, tri_tags, name or path.name)
    except LocatedMeshError as exc:
        kept = np.flatnonzero(np.bincount(tets.ravel(), minlength=len(nodes)))   # HeadMesh node rows
        node_label = lambda rows: mesh.node_label(kept[np.asarray(rows, dtype=np.int64)])  # noqa: E731
        raise MeshError(f"{path}: {exc.render(node_label, mesh.tet_label)}") from None
    except MeshError as exc:
        raise MeshError(f"{path}: {exc}") from None
    if plausible_extent_m is not None:
        extent = float(np.ptp(head.nodes, axis=0).max())
        if not plausible_extent_m[0] <= extent <= plausible_extent_m[1]:
            raise _implausible_extent(path, extent, units, plausible_extent_m)
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
