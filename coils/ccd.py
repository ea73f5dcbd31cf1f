"""SimNIBS .ccd coil files: magnetic dipoles, positions in m, moments in A·m² per A.

Layout: a '#' header line with optional ``key=value`` pairs separated by ';' (``dIdtmax`` in
A/µs), the number of dipoles, a '#' comment line, then one line ``x y z mx my mz`` per dipole.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..core.errors import CoilError, FileFormatError
from ..core.files import read_utf8, write_text_atomic
from .coil import Coil

A_PER_US = 1e6  # dIdtmax in .ccd headers is in A/µs
#: dipoles farther than this (m) from the coil origin mean the file is in mm, not m: the largest
#: TMS coils (H-coils, double cones) span ~0.3 m
MAX_DIPOLE_DISTANCE = 0.5
#: default cap on the number of dipoles a .ccd may announce (SimNIBS' coils hold a few 10³);
#: raise it with ``max_elements=``
DEFAULT_MAX_ELEMENTS = 2_000_000


def _header_fields(line: str) -> dict[str, str]:
    fields = {}
    for part in line.lstrip("#").split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key.strip()] = value.strip()
    return fields


def _max_didt(path: Path, text: str) -> tuple[float, ...]:
    """dIdtmax (A/µs, comma-separated per stimulator) in A/s; "None" or empty: unknown."""
    if text.lower() in ("", "none"):
        return ()
    values = []
    for item in text.split(","):
        try:
            v = float(item)
        except ValueError:
            raise FileFormatError(f"{path}, line 1: dIdtmax={text!r} is not a number (A/us, e.g. "
                                  "dIdtmax=100)") from None
        if not (np.isfinite(v) and v > 0):
            raise CoilError(f"{path}, line 1: dIdtmax={text!r}: the maximum dI/dt must be a finite "
                            "number > 0 (A/us, e.g. dIdtmax=100 for 100 A/us); remove the key if unknown")
        values.append(v * A_PER_US)
    return tuple(values)


def read_ccd(path: str | os.PathLike, *, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Coil:
    """Read a .ccd file into a dipole :class:`Coil`. Errors name the file and line.

    Positions must be in m (the .ccd convention): a dipole more than
    :data:`MAX_DIPOLE_DISTANCE` from the origin is refused as a file in mm. ``max_elements``
    caps the announced number of dipoles (checked before reading them)."""
    path = Path(path)
    lines = read_utf8(path, "a .ccd coil file is plain text (is this a binary file or another coil "
                            "format?)").splitlines()
    if len(lines) < 2 or not lines[0].startswith("#"):
        raise FileFormatError(f"{path}: not a .ccd file (expected a '#' header line, then a count)")
    fields = _header_fields(lines[0])
    try:
        count = int(lines[1].split()[0])
    except (ValueError, IndexError):
        raise FileFormatError(f"{path}, line 2: expected the number of dipoles, got {lines[1][:80]!r}") from None
    if count < 1:
        raise FileFormatError(f"{path}, line 2: the number of dipoles must be at least 1, got {count}")
    if count > max_elements:
        raise FileFormatError(f"{path}, line 2: announces {count:,} dipoles, more than the cap of "
                              f"{max_elements:,}; if the coil really is this large, raise the cap: "
                              f"tf.coils.load(path, max_elements={count})")
    rows = []
    for number, line in enumerate(lines[2:], start=3):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(rows) == count:
            raise FileFormatError(f"{path}, line {number}: header announces {count} dipoles but more "
                                  "follow (wrong count on line 2?)")
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise FileFormatError(f"{path}, line {number}: not six numbers: {line[:80]!r}") from None
        if len(values) != 6:
            raise FileFormatError(f"{path}, line {number}: expected 6 numbers (x y z mx my mz), "
                                  f"found {len(values)}")
        if not np.isfinite(values).all():
            raise CoilError(f"{path}, line {number}: NaN or infinite value in dipole {len(rows) + 1}")
        rows.append(values)
        far = math.hypot(*values[:3])
        if far > MAX_DIPOLE_DISTANCE:
            raise CoilError(f"{path}, line {number}: dipole {len(rows)} lies {far:.4g} m from the coil "
                            f"origin (more than {MAX_DIPOLE_DISTANCE:g} m): .ccd positions are in metres, "
                            "this file looks like it is in mm; divide the positions by 1000")
    if len(rows) != count:
        raise FileFormatError(f"{path}: header announces {count} dipoles but {len(rows)} were "
                              "found (truncated file?)")
    data = np.array(rows).reshape(-1, 6)
    max_didt = _max_didt(path, fields["dIdtmax"]) if "dIdtmax" in fields else ()
    name = fields.get("coilname") or path.stem
    try:
        return Coil(dipole_positions=data[:, :3], dipole_moments=data[:, 3:], max_didt=max_didt, name=name)
    except CoilError as exc:
        raise CoilError(f"{path}: {exc}") from None


def write_ccd(coil: Coil, path: str | os.PathLike) -> None:
    """Write the dipoles of ``coil`` as a .ccd file (atomically). Segment coils are refused."""
    if len(coil.segment_starts):
        raise CoilError(f"coil {coil.name!r} has wire segments; .ccd holds only dipoles")
    if coil.n_stimulators > 1:
        raise CoilError(f"coil {coil.name!r} has several stimulators; .ccd supports one")
    header = f"# {Path(path).name} version 1.1;coilname={coil.name}"
    if coil.max_didt:
        header += ";dIdtmax=" + ",".join(f"{v / A_PER_US:.12g}" for v in coil.max_didt)
    data = np.hstack([coil.dipole_positions, coil.dipole_moments])
    body = "\n".join(" ".join(f"{v:.15e}" for v in row) for row in data)
    write_text_atomic(path, f"{header}\n{len(data)}\n"
                      "# centers and weighted directions of the elements (magnetic dipoles)\n"
                      f"{body}\n")
