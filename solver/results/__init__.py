"""Results and their files: the one place results are saved and loaded.

field      FieldResult (E on a head mesh: sample, statistics, summary, save/load)
surface    SurfaceFieldResult (BEM on surfaces only)
provenance versions and inputs recorded with a result
archive    the .npz layout every result type saves to (head, coil, pose as arrays)
restore    a loaded result's native field and recovery, rebuilt from the stored solver state
folder     the `tmsfield simulate` output folder: save_folder, load_folder, read_summary
nifti      |E| on a NIfTI image's voxel grid
roi        regions of interest (SphereROI) and their |E| statistics
cortex     the field on the grey-matter mid-surface, as GIfTI
load       load_result: any saved result or simulate folder back as its object
"""
from .field import FieldResult, weighted_percentile
from .folder import load_folder, read_summary, save_folder
from .load import load_result
from .nifti import check_nifti_reference, save_nifti
from .provenance import base_provenance, provenance_record
from .roi import CortexROI, MaskROI, SphereROI
from .surface import SurfaceFieldResult

__all__ = ["CortexROI", "FieldResult", "MaskROI", "SphereROI", "SurfaceFieldResult", "base_provenance",
           "check_nifti_reference", "load_folder", "load_result", "provenance_record", "read_summary", "save_folder",
           "save_nifti", "weighted_percentile"]
