"""SimNIBS subject folders (``m2m_<id>/`` as ``charm`` writes them): the head mesh, the EEG caps
and the MNI transformations (``toMNI/``, head_models/mni.py).

A folder holds the head mesh ``<id>.msh`` (mm, SimNIBS tags) and, in ``eeg_positions/``, one CSV
file per cap (e.g. ``EEG10-10_UI_Jurak_2007.csv``) with rows ``Type,x,y,z,Name`` in mm; electrode
rows may carry three more coordinates (a point along the electrode's y axis) before the name.
Types are ``Fiducial``, ``Electrode``, ``ReferenceElectrode`` and ``Generic``; other rows (e.g.
coil positions) are skipped. Positions are returned in metres.
"""
from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import logging
import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, TmsFieldError
from ..core.files import read_utf8

log = logging.getLogger("tmsfield")

#: row types of SimNIBS position files that name a point on the head
POSITION_TYPES = ("Fiducial", "Electrode", "ReferenceElectrode", "Generic")
#: the cap looked in first when none is named (SimNIBS' charm writes it for every subject)
DEFAULT_CAP = "EEG10-10_UI_Jurak_2007"


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def read_positions(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Named positions (m, each (3,)) of a SimNIBS position CSV file (coordinates in mm).

    Raises FileFormatError naming the file and line for rows with too few columns,
    non-numeric or non-finite coordinates, a missing name, or a name given twice."""
    path = Path(path)
    text = read_utf8(path, "a position file is CSV text (Type,x,y,z,Name per row, mm)")
    positions: dict[str, np.ndarray] = {}
    for line, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if cells[0] not in POSITION_TYPES:
            log.debug("%s, line %d: skipping a %r row", path, line, cells[0])
            continue
        xyz = [_number(c) for c in cells[1:4]]
        if len(cells) < 5 or None in xyz:
            raise FileFormatError(f"{path}, line {line}: expected Type,x,y,z,Name with finite x, y, z in mm, "
                                  f"got {','.join(row)!r}")
        rest = cells[4:]
        if len(rest) >= 4 and None not in [_number(c) for c in rest[:3]]:
            rest = rest[3:]                      # the electrode's y-axis point, not needed here
        name = rest[0] if rest else ""
        if not name:
            raise FileFormatError(f"{path}, line {line}: the position has no name (Type,x,y,z,Name)")
        if name in positions:
            raise FileFormatError(f"{path}, line {line}: position {name!r} is given twice")
        positions[name] = 1e-3 * np.array(xyz)
    if not positions:
        raise FileFormatError(f"{path}: no positions (rows of type {', '.join(POSITION_TYPES)})")
    return positions


@dataclasses.dataclass(frozen=True, eq=False)
class Subject:
    """A SimNIBS subject folder: ``mesh_path`` (the head mesh) and ``caps`` (cap name → CSV path)."""
    folder: Path
    mesh_path: Path
    caps: dict
    _mni_transforms: dict = dataclasses.field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """The subject id: the folder name without its ``m2m_`` prefix."""
        return self.folder.name.removeprefix("m2m_")

    @functools.cached_property
    def head(self):
        """The head mesh (HeadMesh, m), read on first use."""
        from .io import load_head
        return load_head(self.mesh_path, name=self.name)

    def positions(self, cap: str | None = None) -> dict[str, np.ndarray]:
        """The named positions (m) of ``cap`` (default :data:`DEFAULT_CAP`, else the only cap)."""
        if not self.caps:
            raise TmsFieldError(f"{self.folder}: no EEG caps (eeg_positions/*.csv); give the coil position in mm "
                                "or as a matsimnibs matrix instead")
        if cap is None:
            cap = DEFAULT_CAP if DEFAULT_CAP in self.caps else next(iter(sorted(self.caps)))
        if cap not in self.caps:
            raise TmsFieldError(f"{self.folder}: no cap {cap!r}; its caps are {sorted(self.caps)}")
        return read_positions(self.caps[cap])

    def mni_transform(self, kind: str = "auto"):
        """The folder's MNI transformation (:class:`~tmsfield.head_models.mni.MNITransform`):
        ``kind`` "nonl", "12dof", "6dof" or "auto" (nonl where present), one per kind and subject
        (its files are read once). E.g. the subject point (m) of MNI M1:
        ``subject.mni_transform().to_subject([-37, -21, 58])``."""
        from .mni import mni_transform
        if kind not in self._mni_transforms:
            self._mni_transforms[kind] = mni_transform(self.folder, kind)
        return self._mni_transforms[kind]

    def position(self, label: str, cap: str | None = None) -> np.ndarray:
        """The position (3,) m named ``label`` (e.g. "C3", "Nz") in ``cap``; a TmsFieldError with
        the closest names when there is none."""
        return named_position(self.positions(cap), label, f"the cap of {self.folder}")


def named_position(positions: dict, label: str, where: str) -> np.ndarray:
    """``positions[label]``, or a TmsFieldError naming ``where`` and the closest names."""
    if label not in positions:
        close = difflib.get_close_matches(label, list(positions), n=5, cutoff=0.5)
        raise TmsFieldError(f"no position {label!r} in {where}"
                            + (f"; did you mean {', '.join(close)}?" if close else
                               f"; it has {len(positions)} positions, e.g. {', '.join(list(positions)[:8])}"))
    return positions[label]


def load_subject(folder: str | os.PathLike) -> Subject:
    """The SimNIBS subject folder ``folder`` (``m2m_<id>``): its head mesh ``<id>.msh`` (or the
    folder's only .msh file) and its EEG caps; the mesh is read on first use of ``.head``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileFormatError(f"{folder}: no such subject folder (a SimNIBS m2m_<id> folder made by charm)")
    subject_id = folder.name.removeprefix("m2m_")
    mesh = folder / f"{subject_id}.msh"
    if not mesh.is_file():
        meshes = sorted(folder.glob("*.msh"))
        if len(meshes) != 1:
            raise FileFormatError(f"{folder}: expected the head mesh {mesh.name}"
                                  + (f"; found several: {[m.name for m in meshes]}" if meshes else
                                     " (run SimNIBS' charm to make it)"))
        mesh = meshes[0]
    caps = {p.stem: p for p in sorted((folder / "eeg_positions").glob("*.csv"))}
    return Subject(folder, mesh, caps)
