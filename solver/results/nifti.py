"""|E| resampled onto the voxel grid of a NIfTI image (e.g. the subject's T1), for viewers
and voxel-based statistics."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...core.errors import FileFormatError, TmsFieldError
from ...core.files import atomic_path
from ...core.optional import require
from ...core.progress import progress
from ...core.units import length_scale

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
    count = int(np.prod(hi - lo))                                     # voxels of the head's box
    magnitude = np.zeros(shape, dtype=np.float32)
    inside_box = np.zeros(count, dtype=np.float32)
    with progress(total=count, desc="NIfTI voxels", verbose=verbose) as bar:
        for start in range(0, count, VOXELS_PER_BLOCK):
            flat = np.arange(start, min(start + VOXELS_PER_BLOCK, count))
            ijk = np.stack(np.unravel_index(flat, tuple(hi - lo)), axis=1) + lo
            E = result.sample((ijk @ affine[:3, :3].T + affine[:3, 3]) * scale)
            inside_box[start:start + len(ijk)] = np.nan_to_num(np.linalg.norm(E, axis=1), nan=0.0)
            bar.update(len(ijk))
    magnitude[box] = inside_box.reshape(hi - lo)
    out = nibabel.Nifti1Image(magnitude, affine)
    out.header.set_xyzt_units(xyz={"mm": "mm", "m": "meter"}.get(units, "unknown"))
    with atomic_path(path) as tmp:
        nibabel.save(out, os.fspath(tmp))
    return path


#: largest reference grid :func:`check_nifti_reference` accepts (voxels): 2**28, e.g. 645³ or a
#: 0.4 mm 7T image; |E| on it is a 1 GiB float32 image
MAX_REFERENCE_VOXELS = 2**28


def check_nifti_reference(path: str | os.PathLike, *,
                          max_voxels: int = MAX_REFERENCE_VOXELS) -> tuple[int, int, int]:
    """Check, from its header alone, that the NIfTI image ``path`` can serve as the reference
    grid of :func:`save_nifti`; return its grid shape (3 ints).

    Call it before a solve, so that a bad reference fails in a second rather than after the
    solve: it reads only the header (nibabel; no voxel data) and refuses a file nibabel cannot
    read, an image with fewer than 3 dimensions or an empty axis, more than ``max_voxels``
    voxels (default :data:`MAX_REFERENCE_VOXELS`; raise it for a genuine larger grid) and an
    affine that is not finite and invertible.
    """
    nibabel = require("nibabel", extra="nifti", purpose="NIfTI output")
    try:
        image = nibabel.load(os.fspath(path))     # lazy: the header only
        shape = tuple(int(n) for n in image.shape)
        affine = np.asarray(image.affine, dtype=np.float64)
    except Exception as exc:   # nibabel raises many types for corrupt headers
        raise FileFormatError(f"{path}: cannot read a NIfTI header ({type(exc).__name__}: {exc})") from None
    if len(shape) < 3 or min(shape[:3]) < 1:
        raise FileFormatError(f"{path}: the reference image has shape {shape}; a 3-D grid is needed")
    voxels = int(np.prod(shape[:3], dtype=object))
    if voxels > max_voxels:
        raise FileFormatError(f"{path}: the reference grid {shape[:3]} has {voxels:.3g} voxels, more "
                              f"than the cap of {max_voxels} (max_voxels=); a corrupt header, or "
                              "resample the image to a coarser grid (|E| needs 4 bytes per voxel), "
                              "or raise max_voxels for a genuine fine grid")
    if affine.shape != (4, 4) or not np.isfinite(affine).all() or \
            abs(np.linalg.det(affine[:3, :3])) < 1e-12 * max(np.abs(affine[:3, :3]).max(), 1e-300) ** 3:
        raise FileFormatError(f"{path}: the image's affine (voxel to world) is not finite and "
                              f"invertible:\n{affine}\nfix its qform/sform")
    return shape[0], shape[1], shape[2]
