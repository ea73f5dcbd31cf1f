"""ThresholdResult: activation thresholds of many cells, with where they fire."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError
from ..core.files import atomic_path, write_text_atomic
from ..solver.results import archive

COLUMNS = ("group", "cell", "factor", "didt_A_per_s", "E_site_V_per_m", "E_max_V_per_m", "site",
           "site_x_m", "site_y_m", "site_z_m")


@dataclasses.dataclass(eq=False)
class ThresholdResult:
    """Thresholds of K cells (all groups concatenated), SI units.

    Attributes
    ----------
    factor : (K,) threshold as a multiple of the simulated dI/dt (the peak of the waveform's
        dI/dt at threshold divided by ``didt_simulated``); NaN where not reached.
    didt : (K,) threshold peak dI/dt (A/s) = factor × didt_simulated.
    e_site : (K,) |E| at the activation site at threshold (V/m, at the waveform peak).
    e_max : (K,) largest |E| over the cell's compartments at threshold (V/m).
    site : (K,) compartment index where the spike first crossed ``v_detect`` (−1 if none).
    site_position : (K, 3) that compartment's position (m; NaN if none).
    group, cell : (K,) index of the cell group (one per Cable) and of the cell within it.
    didt_simulated : dI/dt (A/s) the field was computed for (NaN for a plain field).
    settings : waveform, dt, tolerance, detection level, channel models, counts.
    timings : seconds per stage.
    """
    factor: np.ndarray
    didt: np.ndarray
    e_site: np.ndarray
    e_max: np.ndarray
    site: np.ndarray
    site_position: np.ndarray
    group: np.ndarray
    cell: np.ndarray
    didt_simulated: float
    settings: dict = dataclasses.field(default_factory=dict)
    timings: dict = dataclasses.field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return len(self.factor)

    def table(self) -> dict:
        """Columns (see ``COLUMNS``) as numpy arrays."""
        return dict(zip(COLUMNS, (self.group, self.cell, self.factor, self.didt, self.e_site, self.e_max,
                                  self.site, *self.site_position.T)))

    def summary(self) -> str:
        """Counts, threshold percentiles (factor, dI/dt, local |E|), settings and timings."""
        ok = np.isfinite(self.factor)
        lines = [(f"thresholds of {self.n_cells} cells ({int(ok.sum())} activated below the search limit), "
                  f"waveform {self.settings.get('waveform', '?')}, dt {self.settings.get('dt_s', 0) * 1e6:g} µs, "
                  f"tolerance {100 * self.settings.get('tolerance', 0):g} %")]
        if ok.any():
            lines.append(f"{'':<22}{'min':>11}{'5 %':>11}{'median':>11}{'95 %':>11}{'max':>11}")
            for label, values in (("factor of dI/dt_sim", self.factor), ("dI/dt (A/µs)", self.didt * 1e-6),
                                  ("|E| at site (V/m)", self.e_site)):
                v = values[ok]
                if np.isfinite(v).any():
                    q = np.nanpercentile(v, [0, 5, 50, 95, 100])
                    lines.append(f"{label:<22}" + "".join(f"{x:>11.4g}" for x in q))
        if self.timings:
            lines.append("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items()))
        return "\n".join(lines)

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically by extension: .csv (one row per cell, ``COLUMNS``), .npz (the
        ``COLUMNS`` arrays plus dI/dt, settings and timings: :meth:`load` or
        :func:`tmsfield.load_result` restore the result), or .vtu (a point cloud at the activation
        sites with the thresholds, for ParaView: the threshold map)."""
        path = Path(path)
        suffix = path.suffix.lower()
        cols = self.table()
        if suffix == ".csv":
            header = ",".join(COLUMNS)
            rows = [",".join(_fmt(cols[c][i]) for c in COLUMNS) for i in range(self.n_cells)]
            write_text_atomic(path, "\n".join([header, *rows]) + "\n")
        elif suffix == ".npz":
            archive.write_archive(path, "ThresholdResult", cols, {"didt_simulated": self.didt_simulated,
                                                                  "settings": self.settings, "timings": self.timings})
        elif suffix == ".vtu":
            import meshio
            ok = np.isfinite(self.factor)
            points = self.site_position[ok]
            data = {k: np.asarray(v, dtype=float)[ok] for k, v in cols.items() if not k.startswith("site_")}
            mesh = meshio.Mesh(points, [("vertex", np.arange(len(points))[:, None])], point_data=data)
            with atomic_path(path) as tmp:
                mesh.write(tmp, file_format="vtu")
        else:
            raise FileFormatError(f"{path}: unsupported threshold table format; use .csv, .npz or .vtu")

    @classmethod
    def load(cls, path: str | os.PathLike) -> ThresholdResult:
        """The result saved as .npz by :meth:`save`."""
        return threshold_from_archive(*archive.read_archive(path, "ThresholdResult"), path)


def threshold_from_archive(record: dict, arrays: dict, path) -> ThresholdResult:
    """The ThresholdResult stored by :meth:`ThresholdResult.save` as .npz."""
    col = {c: archive.need(arrays, c, path) for c in COLUMNS}
    return ThresholdResult(factor=col["factor"], didt=col["didt_A_per_s"], e_site=col["E_site_V_per_m"],
                           e_max=col["E_max_V_per_m"], site=col["site"],
                           site_position=np.stack([col["site_x_m"], col["site_y_m"], col["site_z_m"]], axis=1),
                           group=col["group"], cell=col["cell"], didt_simulated=float(record["didt_simulated"]),
                           settings=dict(record.get("settings") or {}), timings=dict(record.get("timings") or {}))


def _fmt(value) -> str:
    if isinstance(value, (np.integer, int)):
        return str(int(value))
    return "nan" if not np.isfinite(value) else f"{float(value):.8g}"
