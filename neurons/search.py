"""Batched threshold search: bracketing, then bisection, for all copies of a cable at once.

Each round integrates every unresolved copy at its own trial amplitude in one engine batch.
Bracketing: a copy that stays below ``v_detect`` at amplitude a moves up by
clip(30 mV / Δv_peak, 1.5, 100) (its subthreshold depolarisation Δv_peak predicts the
distance to a ~30 mV threshold depolarisation, bounded), one that fires moves down by 4.
Bisection: geometric midpoint of [lo, hi] until hi/lo ≤ 1 + tolerance. The threshold
reported is ``hi`` (the lowest amplitude seen to fire); the true one lies in
(hi / (1 + tolerance), hi].
"""
from __future__ import annotations

import dataclasses
import logging

import numpy as np

from ..core.backend import get_backend
from ..core.progress import progress
from .cable import Cable
from .engine import Outcome, integrate

log = logging.getLogger("tmsfield")

STEP_DOWN = 4.0
STEP_UP = (1.5, 100.0)
V_TARGET = 0.030   # V, the depolarisation a subthreshold probe extrapolates to
CPU_CHUNK = 2048   # copies per engine call on the CPU: keeps the (N, B) arrays in cache


@dataclasses.dataclass
class Search:
    """Per copy: ``threshold`` (K,) amplitude factor (NaN above ``max_factor``), ``site`` (K,)
    compartment where the spike started at that amplitude (−1 if none); ``rounds`` and
    ``simulations`` (copy-runs) spent."""
    threshold: np.ndarray
    site: np.ndarray
    rounds: int
    simulations: int


def find_thresholds(cable: Cable, phi, stimulus, dt: float, *, tolerance: float = 0.01,
                    initial=1.0, max_factor: float = 1e6, max_rounds: int = 60,
                    v_detect: float = 0.0, backend="cpu", verbose: bool = False) -> Search:
    """Thresholds of K copies with unit quasi-potentials ``phi`` (K, N) V and the stimulus
    samples ``stimulus`` (T,) at step midpoints (see :func:`engine.integrate`)."""
    phi = np.asarray(phi, dtype=float)
    k = len(phi)
    lo = np.zeros(k)
    hi = np.full(k, np.inf)
    site = np.full(k, -1)
    trial = np.broadcast_to(np.asarray(initial, dtype=float), (k,)).copy()
    v_rest = cable.v_rest
    rounds = simulations = 0
    bar = progress(total=max_rounds, desc="threshold rounds", verbose=verbose)
    while rounds < max_rounds:
        open_ = np.flatnonzero((hi > lo * (1 + tolerance)) & (lo < max_factor))
        if not len(open_):
            break
        out = _integrate_chunked(cable, phi[open_] * trial[open_, None], stimulus, dt, v_detect, backend)
        rounds += 1
        simulations += len(open_)
        bar.update()
        a = trial[open_]
        fired = out.fired
        hi[open_[fired]] = a[fired]
        site[open_[fired]] = out.site[fired]
        lo[open_[~fired]] = a[~fired]
        bracketed = np.isfinite(hi[open_]) & (lo[open_] > 0)
        depol = np.maximum(out.peak - v_rest, 1e-6)
        up = a * np.clip(V_TARGET / depol, *STEP_UP)
        trial[open_] = np.where(bracketed, np.sqrt(lo[open_] * hi[open_]),
                                np.where(fired, a / STEP_DOWN, np.minimum(up, max_factor)))
        log.debug("threshold round %d: %d copies open", rounds, len(open_))
    bar.close()
    unresolved = (hi > lo * (1 + tolerance)) & (lo < max_factor)
    if unresolved.any():
        log.warning("%d of %d threshold searches did not converge in %d rounds", int(unresolved.sum()),
                    k, max_rounds)
    threshold = np.where(np.isfinite(hi), hi, np.nan)
    threshold[unresolved] = np.nan
    return Search(threshold, np.where(np.isfinite(threshold), site, -1), rounds, simulations)


def _integrate_chunked(cable, phi, stimulus, dt, v_detect, backend) -> Outcome:
    """:func:`integrate` in chunks of ``CPU_CHUNK`` copies on the CPU (measured: 2k copies
    per call run ~1.6× faster per copy than 10k on 2 cores), in one call on a GPU."""
    if get_backend(backend).name != "cpu" or len(phi) <= CPU_CHUNK:
        return integrate(cable, phi, stimulus, dt, v_detect=v_detect, backend=backend)
    parts = [integrate(cable, phi[i:i + CPU_CHUNK], stimulus, dt, v_detect=v_detect, backend=backend)
             for i in range(0, len(phi), CPU_CHUNK)]
    return Outcome(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Outcome)))
