"""tmsfield.neurons against NEURON on the CRRSS axon (a subset of validation/neuron_crosscheck.py).

Skips where the ``neuron`` package is absent, or where ``nrnivmodl`` cannot compile the CRRSS
mechanism (no C++ compiler)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("neuron")

import tmsfield as tf
from tmsfield.neurons import waveforms as W
from tmsfield.neurons.coupling import quasi_potentials, sample_field
from tmsfield.neurons.engine import integrate
from tmsfield.neurons.search import find_thresholds

DT = 5e-6


@pytest.fixture(scope="module")
def pair():
    from tmsfield.validation.neuron_reference import NeuronAxon
    axon = tf.neurons.myelinated_axon(10e-6, 21)
    try:
        nrn = NeuronAxon(axon.positions)
    except RuntimeError as exc:
        pytest.skip(f"cannot build the CRRSS mechanism: {exc}")
    return axon, nrn


def _phi(axon, field):
    cells = tf.neurons.Cells.of(axon)
    return quasi_potentials(cells, *sample_field(cells, field))[0]


@pytest.mark.parametrize("wave", [W.rectangular(100e-6), W.biphasic()], ids=["rect100", "biphasic"])
def test_subthreshold_response_equals_neuron_step_for_step(pair, wave):
    """Same scheme, same dt: the peak node potential agrees to rounding (1e-9 relative is far
    below any modelling difference: a wrong half-step in the stimulus timing moves it by ~1e-2)."""
    axon, nrn = pair
    phi = _phi(axon, lambda p: np.c_[0 * p[:, :2], 1.0 + p[:, 2] / 1e-3])
    stim = wave.midpoints(DT, wave.duration + 1e-3)
    ours = integrate(axon, phi[None] * 0.5, stim, DT)
    fired, peak_mv = nrn.fires(phi * 1e3 * 0.5, stim, DT)
    assert not fired and not ours.fired[0]
    assert ours.peak[0] * 1e3 == pytest.approx(peak_mv, rel=1e-9)


def test_threshold_equals_neuron_within_search_tolerance(pair):
    """Monophasic pulse, uniform field, both searched to 0.05 %: the thresholds agree within
    that tolerance (the issue asks for 1 %)."""
    axon, nrn = pair
    phi = _phi(axon, np.array([0.0, 0.0, 1.0]))
    wave = W.monophasic()
    stim = wave.midpoints(DT, wave.duration + 1e-3)
    k_nrn = nrn.threshold(phi * 1e3, stim, DT, tolerance=5e-4)[0]
    k_ours = find_thresholds(axon, phi[None], stim, DT, tolerance=5e-4).threshold[0]
    assert k_ours == pytest.approx(k_nrn, rel=5e-4)
