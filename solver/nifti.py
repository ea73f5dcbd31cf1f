"""|E| resampled onto the voxel grid of a NIfTI image (e.g. the subject's T1), for viewers
and voxel-based statistics."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, TmsFieldError
from ..core.files import atomic_path

#: voxels sampled per block (bounds the memory of the point location)
VOXELS_PER_BLOCK = 200_000


def save_nifti(result, path: str | os.PathLike, reference: str | os.PathLike, *, units: str = "mm") -> Path:
    """Write |E| (V/m, float32) of ``result`` on the grid of the NIfTI image ``reference``.

    The reference's affine maps voxel indices to world coordinates in ``units`` (SimNIBS heads
    and their T1 images: mm); voxel centres outside the head get 0. Needs nibabel
    (``pip install 'tmsfield[nifti]'``). The file is written atomically. Returns the path.
    """
    path = Path(path)
    if not path.name.endswith((".nii", ".nii.gz")):
        raise TmsFieldError(f"{path}: a NIfTI file name ends in .nii or .nii.gz")
    try:
        import nibabel
    except ImportError as exc:
        raise TmsFieldError("NIfTI output needs nibabel: pip install 'tmsfield[nifti]'") from exc
    from ..core.units import length_scale
    try:
        image = nibabel.load(os.fspath(reference))
    except (OSError, nibabel.filebasedimages.ImageFileError) as exc:
        raise FileFormatError(f"{reference}: cannot read a NIfTI image ({exc})") from None
    shape, affine = image.shape[:3], image.affine
    index = np.indices(shape).reshape(3, -1).T                        # (V, 3) voxel indices
    magnitude = np.zeros(len(index), dtype=np.float32)
    for start in range(0, len(index), VOXELS_PER_BLOCK):
        ijk = index[start:start + VOXELS_PER_BLOCK]
        world = (ijk @ affine[:3, :3].T + affine[:3, 3]) * length_scale(units)
        E = result.sample(world)
        inside = np.isfinite(E[:, 0])
        block = np.zeros(len(ijk), dtype=np.float32)
        block[inside] = np.linalg.norm(E[inside], axis=1)
        magnitude[start:start + len(ijk)] = block
    out = nibabel.Nifti1Image(magnitude.reshape(shape), affine)
    out.header.set_xyzt_units(xyz={"mm": "mm", "m": "meter"}.get(units, "unknown"))
    with atomic_path(path) as tmp:
        nibabel.save(out, os.fspath(tmp))
    return path
