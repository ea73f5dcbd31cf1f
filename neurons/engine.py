"""Batched backward-Euler integration of many copies of one cable, as NEURON's fixed step.

One step from t to t + dt, for all B copies at once (arrays are (N compartments, B)):

1. ionic currents I(v) and slopes G = dI/dv at the old potentials and gates;
2. the linear system (C/dt + G + L) Δv = −I − L (v + s φ) with L the axial-conductance
   Laplacian of the tree, s the stimulus at t + dt/2 and φ the quasi-potentials, solved by
   Hines elimination (a tridiagonal Thomas solve for unbranched cables) vectorised over B;
3. v ← v + Δv; gates relax exactly towards their steady state at the new v:
   x ← x∞ + (x − x∞) e^{−dt/τ} (NEURON's ``cnexp`` for these linear gate equations).

This is NEURON's scheme with ``secondorder = 0`` and the extracellular potential played into
``e_extracellular``; validation/neuron_crosscheck.py compares the two.
A copy has fired when any excitable compartment exceeds ``v_detect``; fired copies leave the
batch (their answer is known), so a batch gets cheaper as it runs.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.backend import get_backend
from .cable import Cable


@dataclasses.dataclass
class Outcome:
    """Per copy: ``fired`` (B,) bool, ``site`` (B,) first compartment above ``v_detect``
    (−1 if none), ``time`` (B,) s of that crossing (NaN if none), ``peak`` (B,) highest
    membrane potential reached in an excitable compartment (V)."""
    fired: np.ndarray
    site: np.ndarray
    time: np.ndarray
    peak: np.ndarray


def laplacian(cable: Cable):
    """Axial conductance matrix L (N, N) in S of the tree, as a scipy CSR matrix."""
    import scipy.sparse
    n = cable.n
    child = np.arange(1, n)
    par = cable.parent[1:]
    g = cable.g_axial[1:]
    rows = np.concatenate([child, par, child, par])
    cols = np.concatenate([child, par, par, child])
    vals = np.concatenate([g, g, -g, -g])
    return scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))


def hines_solve(d, r, parent, g) -> None:
    """Solve the symmetric tree system in place (result in ``r``).

    ``d`` (N, B) diagonal, ``r`` (N, B) right-hand sides; row i couples to ``parent[i]``
    with off-diagonal −g[i]; Hines order (parent[i] < i). Both are overwritten.
    """
    n = len(parent)
    for i in range(n - 1, 0, -1):
        p = parent[i]
        f = g[i] / d[i]
        d[p] -= g[i] * f
        r[p] += f * r[i]
    r[0] /= d[0]
    for i in range(1, n):
        r[i] += g[i] * r[parent[i]]
        r[i] /= d[i]


def _groups(cable: Cable):
    """(channel model, index) per channel in use; a slice when its compartments are contiguous."""
    out = []
    for c, model in enumerate(cable.channels):
        idx = np.flatnonzero(cable.channel == c)
        if len(idx) == 0:
            continue
        if np.array_equal(idx, np.arange(idx[0], idx[-1] + 1)):
            idx = slice(int(idx[0]), int(idx[-1]) + 1)
        out.append((model, idx))
    return out


def integrate(cable: Cable, phi, stimulus, dt: float, *, v_detect: float = 0.0,
              backend="cpu") -> Outcome:
    """Run B copies of ``cable`` with quasi-potentials ``phi`` (B, N) V (already scaled by
    each copy's amplitude) times the stimulus ``stimulus`` (T,) sampled at step midpoints,
    for T steps of ``dt`` s, from rest. Returns the :class:`Outcome` per copy."""
    be = get_backend(backend)
    xp = be.xp
    phi = np.asarray(phi, dtype=float)
    b, n = phi.shape
    host_lap = laplacian(cable)
    lap = host_lap if be.name == "cpu" else be.sparse.csr_matrix(host_lap)
    parent = cable.parent.tolist()
    g = cable.g_axial.tolist()
    area = be.asarray(cable.area[:, None])
    diag0 = be.asarray((cable.capacitance / dt + host_lap.diagonal())[:, None])
    excitable = np.flatnonzero(cable.excitable)
    exc = be.asarray(excitable)
    groups = _groups(cable)

    drive = lap @ be.asarray(np.ascontiguousarray(phi.T))       # (N, B): L φ, the activating term
    v = xp.full((n, b), cable.v_rest)
    state = [model.steady_state(v[idx]) for model, idx in groups]
    columns = np.arange(b)             # batch index of each column still integrated
    done = np.zeros(b, bool)           # fired (its column may linger until the next compaction)
    fired = np.zeros(b, bool)
    site = np.full(b, -1)
    time = np.full(b, np.nan)
    peak = np.full(b, cable.v_rest)
    for step, s in enumerate(np.asarray(stimulus, dtype=float)):
        rhs = -(lap @ v)
        if s != 0.0:
            rhs -= s * drive
        d = xp.repeat(diag0, len(columns), axis=1)
        for (model, idx), st in zip(groups, state):
            i_ion, g_ion = model.current(v[idx], st)
            rhs[idx] -= i_ion * area[idx]
            d[idx] += g_ion * area[idx]
        hines_solve(d, rhs, parent, g)
        v += rhs
        for (model, idx), st in zip(groups, state):
            for gate, (inf, tau) in model.rates(v[idx]).items():
                st[gate] = inf + (st[gate] - inf) * xp.exp(-dt / tau)
        if not len(excitable):
            continue
        v_exc = v[exc]
        top = be.to_numpy(v_exc.max(axis=0))
        peak[columns] = np.maximum(peak[columns], top)
        new = (top > v_detect) & ~done[columns]
        if new.any():
            hit = columns[new]
            done[hit] = fired[hit] = True
            site[hit] = excitable[be.to_numpy(v_exc[:, be.asarray(np.flatnonzero(new))].argmax(axis=0))]
            time[hit] = (step + 1) * dt
            if done.all():
                break
            lingering = done[columns]
            if lingering.mean() > 0.1:     # compact: drop fired copies from the batch
                keep = be.asarray(np.flatnonzero(~lingering))
                columns = columns[~lingering]
                v, drive = v[:, keep], drive[:, keep]
                state = [{k: x[:, keep] for k, x in st.items()} for st in state]
    return Outcome(fired, site, time, peak)
