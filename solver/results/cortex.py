"""The field on the grey-matter mid-surface: |E| and its normal and tangential parts, written as
GIfTI (a surface file and a functional file of three arrays, as nibabel reads them) and as
FreeSurfer per-vertex overlays ("curv" format, e.g. for
freeview's ``overlay=``).

The mid-surface is :meth:`HeadMesh.grey_matter_midsurface`; the field is ``result.sample`` at
its vertices (the solver's recommended interpolation); the normal at a vertex is the
area-weighted mean of its triangles' normals, oriented from the white matter towards the grey
matter (away from the nearest white-matter element), so E·n > 0 where the field points out of
the white matter.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...core.files import atomic_path
from ...core.optional import require
from ...head_models import geometry
from ...head_models.tissues import WHITE_MATTER

#: the arrays of cortex_E.func.gii, in order (V/m); each is also a FreeSurfer overlay cortex.<name>
CORTEX_ARRAYS = ("magnE", "E_normal", "E_tangential")
#: the files :func:`save_cortex` writes
CORTEX_FILES = ("cortex.surf.gii", "cortex_E.func.gii") + tuple(f"cortex.{name}" for name in CORTEX_ARRAYS)


def cortex_normals(vertices: np.ndarray, triangles: np.ndarray, head) -> np.ndarray:
    """Unit normals (n, 3) at the mid-surface ``vertices``, pointing away from the white matter."""
    from scipy.spatial import cKDTree
    summed = geometry.vertex_normals(vertices, triangles)
    white = head.centroids[head.tags == WHITE_MATTER]
    _, nearest = cKDTree(white).query(vertices)
    flip = np.einsum("ij,ij->i", summed, vertices - white[nearest]) < 0
    summed[flip] *= -1
    return summed


def cortex_fields(result) -> tuple[np.ndarray, np.ndarray, dict]:
    """(vertices (n, 3) m, triangles (k, 3), {"magnE", "E_normal", "E_tangential": (n,) V/m}) of
    ``result`` (a FieldResult) on its head's grey-matter mid-surface."""
    vertices, triangles = result.head.grey_matter_midsurface()
    E = result.sample(vertices)
    normals = cortex_normals(vertices, triangles, result.head)
    normal_part = np.einsum("ij,ij->i", E, normals)
    tangential = np.linalg.norm(E - normal_part[:, None] * normals, axis=1)
    return vertices, triangles, {"magnE": np.linalg.norm(E, axis=1), "E_normal": normal_part,
                                 "E_tangential": tangential}


def save_cortex(result, folder: str | os.PathLike) -> list[str]:
    """Write :data:`CORTEX_FILES` into ``folder`` (each atomically): the mid-surface in mm, the
    arrays :data:`CORTEX_ARRAYS` per vertex in one GIfTI file, and each as a FreeSurfer overlay.
    Needs nibabel (``tmsfield[nifti]``)."""
    nibabel = require("nibabel", extra="nifti", purpose="GIfTI cortex output")
    from nibabel.gifti import GiftiDataArray, GiftiImage
    vertices, triangles, fields = result.cortex
    surface = GiftiImage(darrays=[
        GiftiDataArray((1e3 * vertices).astype(np.float32), intent="NIFTI_INTENT_POINTSET",
                       datatype="NIFTI_TYPE_FLOAT32"),
        GiftiDataArray(triangles.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE", datatype="NIFTI_TYPE_INT32")])
    data = GiftiImage(darrays=[GiftiDataArray(fields[name].astype(np.float32), intent="NIFTI_INTENT_NONE",
                                              datatype="NIFTI_TYPE_FLOAT32", meta={"Name": name})
                               for name in CORTEX_ARRAYS])
    for image, name in zip((surface, data), CORTEX_FILES):
        with atomic_path(Path(folder) / name) as tmp:
            nibabel.save(image, os.fspath(tmp))
    for name in CORTEX_ARRAYS:
        with atomic_path(Path(folder) / f"cortex.{name}") as tmp:
            nibabel.freesurfer.io.write_morph_data(os.fspath(tmp), fields[name].astype(np.float32))
    return list(CORTEX_FILES)
