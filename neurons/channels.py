"""Membrane channel models: CRRSS/Sweeney mammalian node, Frankenhaeuser–Huxley node, passive.

Every model works on arrays of any shape and in SI units at its interface: membrane
potential ``v`` in volts (absolute, inside minus outside), current densities in A/m²,
conductances in S/m², rates in 1/s. The published rate equations are written in mV and ms
re rest; each model converts at its edge (``_mv`` below) so the formulas read as published.

A model provides:
- ``v_rest`` (V) and ``gates`` (names of its gating variables),
- ``rates(v) -> {gate: (inf, tau)}`` (dimensionless, s),
- ``current(v, state) -> (i, g)``: ionic current density (A/m², outward positive) and its
  slope di/dv (S/m²) at fixed gates, which the implicit integrator linearises with (NEURON
  computes the same slope by a 1 µV finite difference; the CRRSS slope is exact, the FH one
  uses that finite difference too).
"""
from __future__ import annotations

import dataclasses

import numpy as np

_MV = 1e3     # V -> mV
_PER_MS = 1e3  # 1/ms -> 1/s
_DV = 1e-6    # finite-difference step for di/dv (V), as NEURON's 0.001 mV


def _mv(v, v_rest):
    """Membrane potential re rest in mV, the variable of the published rate equations."""
    return (v - v_rest) * _MV


def _vtrap(x, y):
    """x / (1 - exp(-x / y)) with its limit y at x = 0 (the 0/0 of HH-type rate equations)."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x / y) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, y * (1 + x / (2 * y)), safe / (1 - np.exp(-safe / y)))


class ChannelModel:
    """Base class. Subclasses are frozen dataclasses holding their parameters."""
    name = "model"
    gates: tuple[str, ...] = ()
    excitable = True
    v_rest: float

    def rates(self, v) -> dict:
        raise NotImplementedError

    def current(self, v, state: dict):
        raise NotImplementedError

    def steady_state(self, v) -> dict:
        """Gates at their steady state for potential ``v``."""
        return {g: inf for g, (inf, _) in self.rates(v).items()}


@dataclasses.dataclass(frozen=True)
class CRRSS(ChannelModel):
    """Mammalian (rabbit) node of Ranvier at 37 °C: the CRRSS model (Chiu, Ritchie, Rogart,
    Stagg & Sweeney 1979) as used by Sweeney, Mortimer & Durand (1987, Proc. IEEE EMBS 9,
    1577–1578) and by Reilly (Applied Bioelectricity, 1998, ch. 4): no potassium current,
    i = gNa m² h (V − ENa) + gL (V − EL), V re rest in mV, rates in 1/ms:

        αm = (97 + 0.363 V) / (1 + exp((31 − V)/5.3)),  βm = αm / exp((V − 23.8)/4.17)
        βh = 15.6 / (1 + exp((24 − V)/10)),            αh = βh / exp((V − 5.5)/5)

    Defaults: gNa 1445 mS/cm², gL 128 mS/cm², ENa 115 mV and EL −0.01 mV re a rest of
    −80 mV, cm 2.5 µF/cm² (Sweeney et al. 1987). The αm numerator 97 is 126 + 0.363·(−80)
    in absolute potentials, as in ModelDB-derived implementations (``sweeney.mod``); some of
    those use ENa = 35.64 mV absolute (115.64 re rest): pass ``e_na`` to match them.
    The αm numerator is clipped at 0 below V = −267 mV (where the published fit turns
    negative, a non-physical rate reached only far beyond threshold at anodal sites).
    """
    g_na: float = 14450.0        # S/m² (1445 mS/cm²)
    g_l: float = 1280.0          # S/m² (128 mS/cm²)
    e_na: float = 0.115          # V re rest
    e_l: float = -0.01e-3        # V re rest
    v_rest: float = -0.080       # V
    cm: float = 0.025            # F/m² (2.5 µF/cm²)
    name = "crrss"
    gates = ("m", "h")

    def rates(self, v):
        u = _mv(v, self.v_rest)
        am = np.maximum(97.0 + 0.363 * u, 0.0) / (1.0 + np.exp((31.0 - u) / 5.3))
        bm = am / np.exp((u - 23.8) / 4.17)
        bh = 15.6 / (1.0 + np.exp((24.0 - u) / 10.0))
        ah = bh / np.exp((u - 5.5) / 5.0)
        return {"m": (am / (am + bm), 1.0 / ((am + bm) * _PER_MS)),
                "h": (ah / (ah + bh), 1.0 / ((ah + bh) * _PER_MS))}

    def current(self, v, state):
        g_na = self.g_na * state["m"] ** 2 * state["h"]
        u = v - self.v_rest
        i = g_na * (u - self.e_na) + self.g_l * (u - self.e_l)
        return i, g_na + self.g_l


@dataclasses.dataclass(frozen=True)
class FrankenhaeuserHuxley(ChannelModel):
    """Frog (Xenopus) node of Ranvier: Frankenhaeuser & Huxley (1964, J Physiol 171:302) with
    constant-field (GHK) Na, K and non-specific P currents, as in the SENN model (McNeal 1976,
    IEEE TBME 23:329; Reilly, Freeman & Larkin 1985, IEEE TBME 32:1001). V re rest in mV:

        αm = 0.36 (V−22)/(1−e^{(22−V)/3})   βm = 0.4 (13−V)/(1−e^{(V−13)/20})
        αh = 0.1 (−10−V)/(1−e^{(V+10)/6})   βh = 4.5/(1+e^{(45−V)/10})
        αn = 0.02 (V−35)/(1−e^{(35−V)/10})  βn = 0.05 (10−V)/(1−e^{(V−10)/10})
        αp = 0.006 (V−40)/(1−e^{(40−V)/10}) βp = 0.09 (−25−V)/(1−e^{(V+25)/20})

    i_X = P_X x² (E F²/RT) ([X]o − [X]i e^{EF/RT}) / (1 − e^{EF/RT}) with E the absolute
    potential; P_Na 8e-3, P_K 1.2e-3, P_P 0.54e-3 cm/s (i_Na, i_P with m²h, p²; i_K with n²),
    gL 30.3 mS/cm², EL 0.026 mV re rest, [Na]o/i 114.5/13.74 mM, [K]o/i 2.5/120 mM,
    T 295.18 K, rest −70 mV, cm 2 µF/cm² (McNeal 1976, Table I).
    """
    p_na: float = 8e-5           # m/s (8e-3 cm/s)
    p_k: float = 1.2e-5
    p_p: float = 0.54e-5
    g_l: float = 303.0           # S/m² (30.3 mS/cm²)
    e_l: float = 0.026e-3        # V re rest
    na_o: float = 114.5          # mol/m³ (= mM)
    na_i: float = 13.74
    k_o: float = 2.5
    k_i: float = 120.0
    temperature: float = 295.18  # K
    v_rest: float = -0.070       # V
    cm: float = 0.02             # F/m² (2 µF/cm²)
    name = "fh"
    gates = ("m", "h", "n", "p")

    def rates(self, v):
        u = _mv(v, self.v_rest)
        pairs = {
            "m": (0.36 * _vtrap(u - 22.0, 3.0), 0.4 * _vtrap(13.0 - u, 20.0)),
            "h": (0.1 * _vtrap(-10.0 - u, 6.0), 4.5 / (1.0 + np.exp((45.0 - u) / 10.0))),
            "n": (0.02 * _vtrap(u - 35.0, 10.0), 0.05 * _vtrap(10.0 - u, 10.0)),
            "p": (0.006 * _vtrap(u - 40.0, 10.0), 0.09 * _vtrap(-25.0 - u, 20.0)),
        }
        return {g: (a / (a + b), 1.0 / ((a + b) * _PER_MS)) for g, (a, b) in pairs.items()}

    def _ghk(self, v, c_out, c_in):
        """Constant-field flux factor E F²/RT (c_o − c_i e^{EF/RT})/(1 − e^{EF/RT}), C/m³·V."""
        faraday, gas = 96485.33, 8.314462
        a = faraday / (gas * self.temperature)
        x = np.asarray(v, dtype=float) * a
        small = np.abs(x) < 1e-9
        xs = np.where(small, 1.0, x)
        e = np.exp(xs)
        return np.where(small, -faraday * (c_out - c_in), faraday * xs * (c_out - c_in * e) / (1.0 - e))

    def _total(self, v, s):
        na = self._ghk(v, self.na_o, self.na_i)
        return (self.p_na * s["m"] ** 2 * s["h"] * na + self.p_p * s["p"] ** 2 * na
                + self.p_k * s["n"] ** 2 * self._ghk(v, self.k_o, self.k_i)
                + self.g_l * (v - self.v_rest - self.e_l))

    def current(self, v, state):
        i = self._total(v, state)
        return i, (self._total(v + _DV, state) - i) / _DV


@dataclasses.dataclass(frozen=True)
class Passive(ChannelModel):
    """Leak only: i = g (V − E) with E = ``v_rest``. Defaults: 1/(20 kΩ·cm²) = 0.05 mS/cm²,
    −80 mV, 1 µF/cm² (typical cortical dendrite/soma values, e.g. Aberra et al. 2018)."""
    g: float = 0.5               # S/m²
    v_rest: float = -0.080       # V
    cm: float = 0.01             # F/m²
    name = "passive"
    gates = ()
    excitable = False

    def rates(self, v):
        return {}

    def current(self, v, state):
        return self.g * (v - self.v_rest), np.full_like(np.asarray(v, dtype=float), self.g)


CHANNELS = {"crrss": CRRSS, "sweeney": CRRSS, "fh": FrankenhaeuserHuxley,
            "frankenhaeuser_huxley": FrankenhaeuserHuxley, "passive": Passive}


def channel_model(spec) -> ChannelModel:
    """A ChannelModel from an instance or a name ("crrss", "fh", "passive")."""
    from ..core.errors import TmsFieldError
    if isinstance(spec, ChannelModel):
        return spec
    try:
        return CHANNELS[str(spec).lower()]()
    except KeyError:
        raise TmsFieldError(f"unknown channel model {spec!r}; use one of {sorted(CHANNELS)}") from None
