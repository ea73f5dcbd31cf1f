"""Coil placements exported by neuronavigation systems, as CoilPoses (and written back).

The axis conventions, as SimNIBS converts them (``simnibs/utils/nnav.py``); a SimNIBS pose
``matsimnibs`` has the coil's x', y' (handle), z' (into the head) as columns and its centre
in mm:

- Localite TMS Navigator, ``InstrumentMarker*.xml`` / ``TriggerMarkers_Coil*_*.xml``: each
  marker's ``Matrix4D`` (attributes ``data00`` … ``data33``, mm) is L, and matsimnibs = F·L·C
  with C the column map x' = L's z, y' = −L's y, z' = L's x, and F = diag(−1, −1, 1, 1) when
  the file's ``coordinateSpace`` is "LPS" (identity for "RAS"). Trigger markers of an
  untracked coil carry C itself and are skipped.
- Brainsight ``.txt`` export in "NIfTI:Aligned" coordinates (tab-separated; ``Loc. X/Y/Z``
  in mm and ``mInJ``, row J of column I of the rotation): matsimnibs = B·diag(−1, 1, −1, 1),
  i.e. x' and z' reversed.

Both the same T1 as the head model's (its world coordinates, mm) and the files' other columns
are the user's business; only positions and orientations are read.
"""
from __future__ import annotations

import dataclasses
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, PlacementError
from ..core.files import read_utf8, write_text_atomic
from .pose import CoilPose

#: Localite's coil axes → SimNIBS': columns (z, −y, x); its own inverse
LOCALITE_AXES = np.array([[0.0, 0, 1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]])
#: Brainsight's coil axes → SimNIBS': x and z reversed; its own inverse
BRAINSIGHT_AXES = np.diag([-1.0, 1, -1, 1])
#: LPS ↔ RAS world coordinates
LPS_TO_RAS = np.diag([-1.0, -1, 1, 1])
#: the Brainsight columns read, in matrix order
BRAINSIGHT_COLUMNS = ["Loc. X", "Loc. Y", "Loc. Z"] + [f"m{i}n{j}" for i in range(3) for j in range(3)]
#: neuronavigation exports are kilobytes; larger files are refused before parsing
MAX_BYTES = 1 << 24


@dataclasses.dataclass(frozen=True)
class Marker:
    """One exported placement: ``name``, ``pose`` (CoilPose, m), ``didt`` (A/s, where the file
    records it: Localite trigger markers), ``kind`` ("InstrumentMarker", "TriggerMarker",
    "Target", "Sample")."""
    name: str
    pose: CoilPose
    didt: float | None
    kind: str


def _text(path: Path, what: str) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc})") from None
    if size > MAX_BYTES:
        raise FileFormatError(f"{path}: {size} bytes is too large for a neuronavigation export ({what})")
    return read_utf8(path, what)


def _pose(matrix_mm: np.ndarray, where: str) -> CoilPose:
    try:
        return CoilPose.from_matsimnibs(matrix_mm)
    except PlacementError as exc:
        raise FileFormatError(f"{where}: {exc}") from None


def read_localite(path: str | os.PathLike) -> list[Marker]:
    """The markers of a Localite InstrumentMarker or TriggerMarker XML file."""
    path = Path(path)
    text = _text(path, "a Localite export is XML text")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise FileFormatError(f"{path}: not well-formed XML ({exc})") from None
    space = (root.get("coordinateSpace") or "RAS").upper()
    if space not in ("RAS", "LPS"):
        raise FileFormatError(f"{path}: coordinateSpace {space!r} is not supported (RAS or LPS)")
    world = LPS_TO_RAS if space == "LPS" else np.eye(4)
    markers = []
    for kind in ("InstrumentMarker", "TriggerMarker"):
        for index, element in enumerate(root.iter(kind)):
            holder = element.find("Marker") if kind == "InstrumentMarker" else element
            matrix = None if holder is None else holder.find("Matrix4D")
            where = f"{path}, {kind} {index}"
            if matrix is None:
                raise FileFormatError(f"{where}: no Matrix4D element")
            try:
                values = np.array([[float(matrix.attrib[f"data{r}{c}"]) for c in range(4)] for r in range(4)])
            except (KeyError, ValueError) as exc:
                raise FileFormatError(f"{where}: Matrix4D needs numeric data00 … data33 ({exc})") from None
            if kind == "TriggerMarker" and np.array_equal(values, LOCALITE_AXES):
                continue                                          # the coil was not tracked
            didt = None
            for value in element.iter("Value"):
                if value.get("key") == "valueA":
                    try:
                        didt = float(value.get("response")) * 1e6      # A/µs in the file
                    except (TypeError, ValueError):
                        didt = None
                    didt = didt if didt and np.isfinite(didt) else None
            name = (holder.get("description") or "").strip() or f"{kind} {index}"
            markers.append(Marker(name, _pose(world @ values @ LOCALITE_AXES, where), didt, kind))
    if not markers:
        raise FileFormatError(f"{path}: no InstrumentMarker or tracked TriggerMarker with a Matrix4D")
    return markers


def read_brainsight(path: str | os.PathLike) -> list[Marker]:
    """The targets and samples of a Brainsight .txt export (NIfTI:Aligned coordinates)."""
    path = Path(path)
    text = _text(path, "a Brainsight export is tab-separated text")
    system, columns, kind, markers = None, None, None, []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("# Coordinate system:"):
            system = line.split(":", 1)[1].strip()
        elif line.startswith(("# Target Name", "# Sample Name")):
            columns = line[2:].split("\t")
            kind = "Target" if line.startswith("# Target") else "Sample"
            missing = [c for c in BRAINSIGHT_COLUMNS if c not in columns]
            if missing:
                raise FileFormatError(f"{path}, line {line_number}: columns {missing} are missing")
        elif line.startswith("#") or not line.strip():
            continue
        elif columns is None:
            raise FileFormatError(f"{path}, line {line_number}: data before a '# Target Name' or '# Sample Name' "
                                  "header line")
        else:
            if system is None or system.lower() != "nifti:aligned":
                raise FileFormatError(f"{path}: coordinate system {system!r} is not supported: export the targets "
                                      "from Brainsight as NIfTI:Aligned")
            cells = line.split("\t")
            row = dict(zip(columns, cells))
            try:
                loc = [float(row[c]) for c in BRAINSIGHT_COLUMNS[:3]]
                columns_ = [[float(row[f"m{i}n{j}"]) for j in range(3)] for i in range(3)]
            except (KeyError, ValueError) as exc:
                raise FileFormatError(f"{path}, line {line_number}: expected numbers in the position and "
                                      f"orientation columns ({exc})") from None
            matrix = np.eye(4)
            matrix[:3, :3] = np.array(columns_).T
            matrix[:3, 3] = loc
            where = f"{path}, line {line_number}"
            markers.append(Marker(cells[0].strip() or f"{kind} {len(markers)}",
                                  _pose(matrix @ BRAINSIGHT_AXES, where), None, kind))
    if not markers:
        raise FileFormatError(f"{path}: no targets or samples (a Brainsight .txt export)")
    return markers


def read_neuronavigation(path: str | os.PathLike) -> list[Marker]:
    """The markers of a Localite (.xml) or Brainsight (.txt) export."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return read_localite(path)
    if suffix == ".txt":
        return read_brainsight(path)
    raise FileFormatError(f"{path}: unknown neuronavigation export; Localite InstrumentMarker/TriggerMarker .xml "
                          "and Brainsight .txt (NIfTI:Aligned) are read")


def marker(markers: list[Marker], name: str | None, path) -> Marker:
    """The marker called ``name`` (None: the only one), or a FileFormatError listing the names."""
    names = [m.name for m in markers]
    if name is None and len(markers) == 1:
        return markers[0]
    chosen = [m for m in markers if m.name == name]
    if len(chosen) == 1:
        return chosen[0]
    raise FileFormatError(f"{path}: " + (f"no single marker named {name!r}" if name is not None else
                                         f"{len(markers)} markers: name one") + f"; the markers are {names}")


def write_localite(path: str | os.PathLike, poses: dict, space: str = "RAS") -> None:
    """An InstrumentMarker XML file of ``poses`` {name: CoilPose} in ``space`` (RAS or LPS)."""
    world = LPS_TO_RAS if space.upper() == "LPS" else np.eye(4)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<InstrumentMarkerList coordinateSpace="{space.upper()}">']
    for index, (name, pose) in enumerate(poses.items()):
        values = world @ pose.to_matsimnibs() @ LOCALITE_AXES
        data = " ".join(f'data{r}{c}="{values[r, c]:.17g}"' for r in range(4) for c in range(4))
        lines += [f'  <InstrumentMarker index="{index}">', f'    <Marker description="{name}">',
                  f"      <Matrix4D {data}/>", "    </Marker>", "  </InstrumentMarker>"]
    write_text_atomic(path, "\n".join(lines + ["</InstrumentMarkerList>", ""]))


def write_brainsight(path: str | os.PathLike, poses: dict) -> None:
    """A Brainsight .txt target export (NIfTI:Aligned) of ``poses`` {name: CoilPose}."""
    lines = ["# Version: 12", "# Coordinate system: NIfTI:Aligned", "# Encoding: UTF-8",
             "# Target Name\t" + "\t".join(BRAINSIGHT_COLUMNS)]
    for name, pose in poses.items():
        values = pose.to_matsimnibs() @ BRAINSIGHT_AXES
        numbers = list(values[:3, 3]) + [values[j, i] for i in range(3) for j in range(3)]
        lines.append("\t".join([name] + [f"{v:.10g}" for v in numbers]))
    write_text_atomic(path, "\n".join(lines) + "\n")
