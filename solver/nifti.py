"""|E| resampled onto the voxel grid of a NIfTI image (e.g. the subject's T1), for viewers
and voxel-based statistics."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, TmsFieldError
from ..core.files import atomic_path
from ..core.optional import require
from ..core.progress import progress
from ..core.units import length_scale

#: voxels sampled per block (bounds the memory of the point location); only the voxels of the
#: head's bounding box are sampled, the rest are 0
VOXELS_PER_BLOCK = 1_000_000


def _voxel_box(affine: np.ndarray, scale: float, nodes: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """Voxel index ranges [lo, hi) (3,) each of the image that cover the head's bounding box
    (``nodes`` in m; ``affine`` maps voxels to world units, ``scale`` of those in m)."""
    corners = np.array(np.meshgrid(*zip(nodes.min(axis=0), nodes.max(axis=0)), indexing="ij")).reshape(3, -1).T
    ijk = (corners / scale - affine[:3, 3]) @ np.linalg.inv(affine[:3, :3]).T
    lo = np.clip(np.floor(ijk.min(axis=0)).astype(int), 0, shape)
    hi = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 1, 0, shape)
    return lo, np.maximum(hi, lo)


def save_nifti(result, path: str | os.PathLike, reference: str | os.PathLike, *, units: str = "mm",
               verbose: bool = True) -> Path:
    """Write |E| (V/m, float32) of ``result`` on the grid of the NIfTI image ``reference``.

    The reference's affine maps voxel indices to world coordinates in ``units`` (SimNIBS heads
    and their T1 images: mm); voxel centres outside the head get 0. Needs nibabel
    (``pip install 'tmsfield[nifti]'``). A progress bar counts the voxels sampled (``verbose``).
    The file is written atomically. Returns the path.
    """
    path = Path(path)
    if not path.name.endswith((".nii", ".nii.gz")):
        raise TmsFieldError(f"{path}: a NIfTI file name ends in .nii or .nii.gz")
    nibabel = require("nibabel", extra="nifti", purpose="NIfTI output")
    scale = length_scale(units)
    try:
        image = nibabel.load(os.fspath(reference))
    except (OSError, nibabel.filebasedimages.ImageFileError) as exc:
        raise FileFormatError(f"{reference}: cannot read a NIfTI image ({exc})") from None
    shape, affine = image.shape[:3], image.affine
    lo, hi = _voxel_box(affine, scale, result.head.nodes, shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    index = np.indices(hi - lo).reshape(3, -1).T + lo                # (V, 3) voxels of the head's box
    magnitude = np.zeros(shape, dtype=np.float32)
    inside_box = np.zeros(len(index), dtype=np.float32)
    with progress(total=len(index), desc="NIfTI voxels", verbose=verbose) as bar:
        for start in range(0, len(index), VOXELS_PER_BLOCK):
            ijk = index[start:start + VOXELS_PER_BLOCK]
            E = result.sample((ijk @ affine[:3, :3].T + affine[:3, 3]) * scale)
            inside_box[start:start + len(ijk)] = np.nan_to_num(np.linalg.norm(E, axis=1), nan=0.0)
            bar.update(len(ijk))
    magnitude[box] = inside_box.reshape(hi - lo)
    out = nibabel.Nifti1Image(magnitude, affine)
    out.header.set_xyzt_units(xyz={"mm": "mm", "m": "meter"}.get(units, "unknown"))
    with atomic_path(path) as tmp:
        nibabel.save(out, os.fspath(tmp))
    return path
