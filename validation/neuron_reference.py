"""The CRRSS myelinated axon built in NEURON (the simulator nobody here wrote), for cross-checks.

The CRRSS node membrane is compiled from the NMODL text below with ``nrnivmodl`` (shipped
with the PyPI ``neuron`` wheel; needs a C++ compiler). Geometry: one section per node of
Ranvier (nseg 1, CRRSS + ``extracellular``) and per internode (nseg 1, cm 0, no mechanism:
perfect myelin), the SENN structure of tmsfield.neurons.axon. The quasi-potential is played
into ``e_extracellular`` of each node with ``Vector.play(..., continuous=1)``, which NEURON's
fixed step evaluates at t + dt/2; integration is backward Euler (``secondorder = 0``).
"""
from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

# no InterViews GUI: headless use, and it breaks VTK rendering in the same process
os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")

CRRSS_MOD = r"""
TITLE CRRSS mammalian node of Ranvier (Sweeney et al. 1987), potentials re rest
NEURON {
    SUFFIX crrss
    NONSPECIFIC_CURRENT i
    RANGE gnabar, gl, ena, el, vrest
}
UNITS { (mA) = (milliamp) (mV) = (millivolt) (S) = (siemens) }
PARAMETER {
    gnabar = 1.445 (S/cm2)
    gl = 0.128 (S/cm2)
    ena = 115 (mV)
    el = -0.01 (mV)
    vrest = -80 (mV)
}
STATE { m h }
ASSIGNED { v (mV) i (mA/cm2) minf hinf mtau (ms) htau (ms) }
BREAKPOINT {
    SOLVE states METHOD cnexp
    i = gnabar*m*m*h*(v - vrest - ena) + gl*(v - vrest - el)
}
INITIAL { rates(v) m = minf h = hinf }
DERIVATIVE states {
    rates(v)
    m' = (minf - m)/mtau
    h' = (hinf - h)/htau
}
UNITSOFF
PROCEDURE rates(v (mV)) { LOCAL u, num, am, bm, ah, bh
    u = v - vrest
    num = 97 + 0.363*u
    if (num < 0) { num = 0 }
    am = num/(1 + exp((31 - u)/5.3))
    bm = am/exp((u - 23.8)/4.17)
    bh = 15.6/(1 + exp((24 - u)/10))
    ah = bh/exp((u - 5.5)/5)
    minf = am/(am + bm)
    mtau = 1/(am + bm)
    hinf = ah/(ah + bh)
    htau = 1/(ah + bh)
}
UNITSON
"""


@functools.lru_cache(maxsize=1)
def load_neuron():
    """Compile (once per mechanism text, cached in the temp folder) and load the CRRSS
    mechanism; return NEURON's ``h``. Raises RuntimeError when nrnivmodl fails."""
    from neuron import h
    if hasattr(h, "crrss"):
        return h
    key = hashlib.sha1(CRRSS_MOD.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"tmsfield_nrn_{key}"
    libs = sorted(folder.glob("*/libnrnmech.so")) + sorted(folder.glob("*/.libs/libnrnmech.so"))
    if not libs:
        folder.mkdir(exist_ok=True)
        (folder / "crrss.mod").write_text(CRRSS_MOD)
        nrnivmodl = Path(_neuron_bin()) / "nrnivmodl"
        run = subprocess.run([str(nrnivmodl)], check=False, cwd=folder, capture_output=True, text=True)
        libs = sorted(folder.glob("*/libnrnmech.so")) + sorted(folder.glob("*/.libs/libnrnmech.so"))
        if run.returncode or not libs:
            raise RuntimeError(f"nrnivmodl failed in {folder}:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    h.nrn_load_dll(str(libs[0]))
    h.load_file("stdrun.hoc")
    return h


def _neuron_bin() -> str:
    import shutil
    import sys
    found = shutil.which("nrnivmodl")
    return str(Path(found).parent) if found else str(Path(sys.executable).parent)


class NeuronAxon:
    """CRRSS axon in NEURON with nodes at ``nodes`` (N, 3) m (straight segments between them);
    same parameters as tmsfield.neurons.myelinated_axon (D, d/D, node length, ρi)."""

    def __init__(self, nodes, diameter=10e-6, *, axon_ratio=0.6, node_length=1e-6, resistivity=0.547):
        h = load_neuron()
        self.h = h
        nodes = np.asarray(nodes, float)
        d_um = axon_ratio * diameter * 1e6
        gaps_um = np.linalg.norm(np.diff(nodes, axis=0), axis=1) * 1e6
        ra = resistivity * 100.0                      # Ω·m -> Ω·cm
        self.nodes = [h.Section(name=f"node{i}") for i in range(len(nodes))]
        self.internodes = [h.Section(name=f"internode{i}") for i in range(len(nodes) - 1)]
        for sec in self.nodes:
            sec.nseg, sec.L, sec.diam, sec.Ra, sec.cm = 1, node_length * 1e6, d_um, ra, 2.5
            sec.insert("crrss")
            sec.insert("extracellular")
        for sec, gap in zip(self.internodes, gaps_um):
            sec.nseg, sec.L, sec.diam, sec.Ra, sec.cm = 1, gap - node_length * 1e6, d_um, ra, 0.0
        for i, sec in enumerate(self.internodes):
            sec.connect(self.nodes[i](1))
            self.nodes[i + 1].connect(sec(1))
        self.v = [h.Vector().record(sec(0.5)._ref_v) for sec in self.nodes]

    def fires(self, phi_mv, stimulus, dt) -> tuple[bool, float]:
        """Run from rest with e_extracellular = ``phi_mv`` (N,) mV × ``stimulus`` (T,) (the
        waveform at step midpoints) for T steps of ``dt`` s. Returns (any node above 0 mV,
        peak node potential in mV)."""
        h = self.h
        dt_ms = dt * 1e3
        steps = len(stimulus)
        tvec = h.Vector(np.concatenate([[0.0], (np.arange(steps) + 0.5) * dt_ms]))
        plays = []
        for sec, phi in zip(self.nodes, phi_mv):
            vec = h.Vector(np.concatenate([[0.0], phi * np.asarray(stimulus)]))
            vec.play(sec(0.5)._ref_e_extracellular, tvec, 1)
            plays.append(vec)
        h.secondorder = 0
        h.dt = dt_ms
        h.finitialize(-80.0)
        for _ in range(steps):
            h.fadvance()
        for vec in plays:
            vec.play_remove()
        peak = max(vec.max() for vec in self.v)
        return peak > 0.0, peak

    def threshold(self, phi_mv, stimulus, dt, *, tolerance=0.01, initial=1.0) -> tuple[float, int, float]:
        """Bracketing (×/÷ 2) and geometric bisection to hi/lo ≤ 1 + tolerance, one run at a
        time, as a NEURON user would. Returns (threshold factor, runs, seconds)."""
        t0 = time.perf_counter()
        lo, hi, a, runs = 0.0, np.inf, float(initial), 0
        while not (np.isfinite(hi) and lo > 0 and hi <= lo * (1 + tolerance)):
            fired, _ = self.fires(np.asarray(phi_mv) * a, stimulus, dt)
            runs += 1
            if fired:
                hi = a
            else:
                lo = a
            a = np.sqrt(lo * hi) if (np.isfinite(hi) and lo > 0) else (a / 2 if fired else a * 2)
        return hi, runs, time.perf_counter() - t0
