"""SimNIBS .ccd coil files: magnetic dipoles, positions in m, moments in A·m² per A.

Layout: a '#' header line with optional ``key=value`` pairs separated by ';' (``dIdtmax`` in
A/µs), the number of dipoles, a '#' comment line, then one line ``x y z mx my mz`` per dipole.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import CoilError, FileFormatError
from ..core.files import write_text_atomic
from .coil import Coil

A_PER_US = 1e6  # dIdtmax in .ccd headers is in A/µs


def _header_fields(line: str) -> dict[str, str]:
    fields = {}
    for part in line.lstrip("#").split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key.strip()] = value.strip()
    return fields


def read_ccd(path: str | os.PathLike) -> Coil:
    """Read a .ccd file into a dipole :class:`Coil`. Errors name the file and line."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: cannot read ({exc})") from exc
    if len(lines) < 2 or not lines[0].startswith("#"):
        raise FileFormatError(f"{path}: not a .ccd file (expected a '#' header line, then a count)")
    fields = _header_fields(lines[0])
    try:
        count = int(lines[1].split()[0])
    except (ValueError, IndexError):
        raise FileFormatError(f"{path}, line 2: expected the number of dipoles, got {lines[1]!r}") from None
    rows, first_data = [], None
    for number, line in enumerate(lines[2:], start=3):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        first_data = first_data or number
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise FileFormatError(f"{path}, line {number}: not six numbers: {line!r}") from None
        if len(values) != 6:
            raise FileFormatError(f"{path}, line {number}: expected 6 numbers, found {len(values)}")
        if not np.isfinite(values).all():
            raise CoilError(f"{path}, line {number}: NaN or infinite value in dipole {len(rows) + 1}")
        rows.append(values)
    if len(rows) != count:
        raise FileFormatError(f"{path}: header announces {count} dipoles but {len(rows)} were "
                              "found (truncated file?)")
    data = np.array(rows).reshape(-1, 6)
    max_didt = ()
    if "dIdtmax" in fields:
        try:
            max_didt = tuple(float(v) * A_PER_US for v in fields["dIdtmax"].split(","))
        except ValueError:
            raise FileFormatError(f"{path}, line 1: bad dIdtmax {fields['dIdtmax']!r}") from None
    name = fields.get("coilname") or path.stem
    return Coil(dipole_positions=data[:, :3], dipole_moments=data[:, 3:], max_didt=max_didt, name=name)


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
