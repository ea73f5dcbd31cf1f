"""``thresholds()``: activation thresholds of cells in a computed field."""
from __future__ import annotations

import logging
import time

import numpy as np

from ..core.errors import TmsFieldError
from ..core.progress import scoped_verbose
from .cable import as_cell_groups
from .coupling import quasi_potentials, sample_field
from .result import ThresholdResult
from .search import find_thresholds
from .waveforms import waveform as as_waveform

log = logging.getLogger("tmsfield")

#: default time step (s): the 5 µs backward-Euler step of published TMS neuron models;
#: validation/results/neuron_crosscheck.md gives its error against dt → 0 per pulse.
DEFAULT_DT = 5e-6


@scoped_verbose
def thresholds(result, cells, waveform="monophasic", *, dt: float = DEFAULT_DT,
               tolerance: float = 0.01, t_after: float = 1e-3, v_detect: float = 0.0,
               initial=1.0, max_factor: float = 1e4, didt: float | None = None,
               backend="cpu", verbose: bool | None = None) -> ThresholdResult:
    """Activation thresholds of ``cells`` for a field and a pulse waveform.

    Parameters
    ----------
    result : a FieldResult (E for ``result.didt[0]``), a callable E(points (P, 3) m) → (P, 3)
        V/m, or a constant 3-vector (uniform field, V/m).
    cells : a Cable, Cells (K placed copies of one cable) or a list of them.
    waveform : "monophasic", "biphasic", "rectangular[:WIDTH_US]" or a Waveform.
    dt : time step (s). tolerance : relative width of the final bracket (0.01 = 1 %).
    t_after : simulated time after the pulse (s) for a spike to appear.
    v_detect : a cell fires when any excitable compartment's membrane potential exceeds this
        (V, absolute; 0 V: the overshoot of a spike, 80 mV above the CRRSS rest).
    initial : first trial factor (scalar or one per cell). max_factor : search limit.
    didt : dI/dt (A/s) the field corresponds to (default ``result.didt[0]``; NaN otherwise).
    backend : "cpu", "gpu" or "auto" (core.backend.get_backend).

    Returns a :class:`ThresholdResult` with one row per cell (groups in order).
    """
    wave = as_waveform(waveform)
    if not (np.isfinite(dt) and dt > 0) or not (0 < tolerance < 1) or t_after < 0:
        raise TmsFieldError(f"need dt > 0, 0 < tolerance < 1 and t_after >= 0; got {dt}, {tolerance}, {t_after}")
    if didt is None:
        didt = float(result.didt[0]) if hasattr(result, "didt") else float("nan")
    groups = as_cell_groups(cells)
    stimulus = wave.midpoints(dt, wave.duration + t_after)
    timings = {"field sampling": 0.0, "threshold search": 0.0}
    parts, rounds, sims = [], 0, 0
    for g, cells_g in enumerate(groups):
        t0 = time.perf_counter()
        e_nodes, e_mid = sample_field(cells_g, result)
        phi = quasi_potentials(cells_g, e_nodes, e_mid)
        t1 = time.perf_counter()
        search = find_thresholds(cells_g.cable, phi, stimulus, dt, tolerance=tolerance, initial=initial,
                                 max_factor=max_factor, v_detect=v_detect, backend=backend,
                                 verbose=bool(verbose))
        timings["field sampling"] += t1 - t0
        timings["threshold search"] += time.perf_counter() - t1
        rounds, sims = max(rounds, search.rounds), sims + search.simulations
        parts.append(_rows(g, cells_g, e_nodes, search))
        log.info("group %d (%s): %d cells, %d rounds", g, cells_g.cable.name, cells_g.n_cells, search.rounds)
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    settings = {"waveform": wave.name, "dt_s": dt, "tolerance": tolerance, "t_after_s": t_after,
                "v_detect_V": v_detect, "max_factor": max_factor, "rounds": rounds, "simulations": sims,
                "groups": [{"name": c.cable.name, "cells": c.n_cells, "compartments": c.cable.n,
                            "channels": [m.name for m in c.cable.channels]} for c in groups]}
    return ThresholdResult(cols["factor"], cols["factor"] * didt, cols["e_site"], cols["e_max"], cols["site"],
                           cols["site_position"], cols["group"], cols["cell"], didt, settings, timings)


def _rows(g, cells, e_nodes, search) -> dict:
    k = cells.n_cells
    factor = search.threshold
    fired = search.site >= 0
    site = np.where(fired, search.site, 0)
    magnitude = np.linalg.norm(e_nodes, axis=2)                       # (K, N)
    e_site = np.where(fired, magnitude[np.arange(k), site] * factor, np.nan)
    position = np.where(fired[:, None], cells.positions[np.arange(k), site], np.nan)
    return {"factor": factor, "e_site": e_site, "e_max": magnitude.max(axis=1) * factor,
            "site": search.site, "site_position": position, "group": np.full(k, g), "cell": np.arange(k)}
