"""Neuron activation by the computed E-field: batched cable models and threshold search.

>>> import tmsfield as tf
>>> axon = tf.neurons.myelinated_axon(diameter=10e-6, n_nodes=21)
>>> cells = axon.place(origins, directions)           # K copies, (K, 3) each, metres
>>> res = tf.neurons.thresholds(field_result, cells, waveform="monophasic")
>>> print(res.summary()); res.save("thresholds.csv")
"""
from .api import DEFAULT_DT, thresholds
from .axon import axon_through, axons_along, myelinated_axon
from .cable import Cable, Cells
from .channels import CRRSS, FrankenhaeuserHuxley, Passive
from .populations import CorticalSites, cortical_sites, place_in_cortex
from .result import ThresholdResult
from .swc import load_swc, read_swc
from .waveforms import Waveform, biphasic, monophasic, rectangular, sampled

__all__ = [
           "CRRSS",
           "DEFAULT_DT",
           "Cable",
           "Cells",
           "CorticalSites",
           "FrankenhaeuserHuxley",
           "Passive",
           "ThresholdResult",
           "Waveform",
           "axon_through",
           "axons_along",
           "biphasic",
           "cortical_sites",
           "load_swc",
           "monophasic",
           "myelinated_axon",
           "place_in_cortex",
           "read_swc",
           "rectangular",
           "sampled",
           "thresholds",
]
