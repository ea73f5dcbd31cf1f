"""Threshold throughput: N straight CRRSS axons (21 nodes, D = 10 µm) in one batched search,
against NEURON on a sample of the same axons in the same run.

Axons: random orientations with cos θ ∈ [0.2, 1] to a uniform 1 V/m field (so thresholds
spread 5×), monophasic pulse, dt 5 µs, 1 % tolerance. Reported: thresholds per second,
cells × amplitudes (simulated copy-runs) per second, seconds per threshold, and the ratio to
NEURON (one axon at a time, the same bracketing + bisection), with the largest relative
difference between the two on the sample.

Run: python benchmarks/neurons.py [--cells 10000] [--neuron-sample 20] [--backend cpu|gpu]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import time
from pathlib import Path

import numpy as np
from common import machine

import tmsfield as tf
from tmsfield.neurons import waveforms as W
from tmsfield.neurons.coupling import quasi_potentials, sample_field
from tmsfield.neurons.search import find_thresholds

RESULTS = Path(__file__).resolve().parent / "results"
DT, TOL, T_AFTER = 5e-6, 0.01, 1e-3


def axons(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    cos = rng.uniform(0.2, 1.0, n)
    phi_az = rng.uniform(0, 2 * np.pi, n)
    sin = np.sqrt(1 - cos ** 2)
    directions = np.stack([sin * np.cos(phi_az), sin * np.sin(phi_az), cos], axis=1)
    cable = tf.neurons.myelinated_axon(10e-6, 21)
    return cable.place(np.zeros((n, 3)), directions)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=10_000)
    ap.add_argument("--neuron-sample", type=int, default=20)
    ap.add_argument("--backend", default="cpu")
    args = ap.parse_args()
    cells = axons(args.cells)
    wave = W.monophasic()
    stim = wave.midpoints(DT, wave.duration + T_AFTER)
    phi = quasi_potentials(cells, *sample_field(cells, np.array([0.0, 0.0, 1.0])))
    t0 = time.perf_counter()
    search = find_thresholds(cells.cable, phi, stim, DT, tolerance=TOL, backend=args.backend)
    ours = time.perf_counter() - t0
    record = {"cells": args.cells, "backend": args.backend, "seconds": ours, "rounds": search.rounds,
              "simulations": search.simulations, "s_per_threshold": ours / args.cells,
              "copy_runs_per_s": search.simulations / ours, "steps": len(stim),
              "resolved": int(np.isfinite(search.threshold).sum())}
    try:
        from tmsfield.validation.neuron_reference import NeuronAxon
    except ImportError:
        NeuronAxon = None
    if NeuronAxon is not None and args.neuron_sample:
        try:
            nrn_axon = NeuronAxon(cells.cable.positions)
        except (ImportError, RuntimeError) as exc:
            print(f"NEURON unavailable: {exc}")
            nrn_axon = None
        if nrn_axon is not None:
            sample = np.linspace(0, args.cells - 1, args.neuron_sample).astype(int)
            t0 = time.perf_counter()
            k_nrn = [nrn_axon.threshold(phi[i] * 1e3, stim, DT, tolerance=TOL)[0] for i in sample]
            nrn_s = (time.perf_counter() - t0) / len(sample)
            diff = np.abs(search.threshold[sample] / np.array(k_nrn) - 1)
            record.update({"neuron_sample": len(sample), "neuron_s_per_threshold": nrn_s,
                           "speedup_per_threshold": nrn_s / record["s_per_threshold"],
                           "max_rel_diff_sample": float(diff.max())})
    record.update({"machine": machine(), "date": datetime.date.today().isoformat(),
                   "load_average_1min_at_end": os.getloadavg()[0]})
    RESULTS.mkdir(exist_ok=True)
    stem = "neurons" if args.backend == "cpu" else f"neurons_{args.backend}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(_markdown(record))
    print(_markdown(record))


def _markdown(r) -> str:
    lines = ["# Neuron thresholds: batched search vs NEURON", "",
             (f"Machine: {r['machine']}; {r['date']}; backend {r['backend']}; `python benchmarks/neurons.py "
              f"--cells {r['cells']}`; 1-min load average at the end {r['load_average_1min_at_end']:.1f} "
              "(the machine is shared: both timings are noisy, the ratio less so as they run back to back)."), "",
             (f"{r['cells']} straight CRRSS axons (21 nodes, D = 10 µm), random angle to a uniform field "
              "(cos θ ∈ [0.2, 1]), monophasic pulse, dt 5 µs, backward Euler, "
              f"{r['steps']} steps per run, 1 % tolerance."), "",
             "| quantity | value |", "|---|---:|",
             f"| wall time, all thresholds | {r['seconds']:.1f} s |",
             f"| search rounds (batched engine calls) | {r['rounds']} |",
             f"| cells × amplitudes simulated | {r['simulations']} |",
             f"| cells × amplitudes per second | {r['copy_runs_per_s']:.0f} |",
             f"| time per threshold | {1e3 * r['s_per_threshold']:.2f} ms |",
             f"| thresholds found | {r['resolved']} of {r['cells']} |"]
    if "neuron_s_per_threshold" in r:
        lines += [(f"| NEURON time per threshold (sample of {r['neuron_sample']}, same run) | "
                   f"{1e3 * r['neuron_s_per_threshold']:.1f} ms |"),
                  f"| **speed-up per threshold vs NEURON** | **{r['speedup_per_threshold']:.0f}×** |",
                  f"| largest threshold difference on the sample | {100 * r['max_rel_diff_sample']:.2f} % |"]
    lines += ["", ("NEURON runs one axon at a time with the same bracketing/bisection (validation/"
                   "neuron_reference.py), Python `fadvance` loop; the difference on the sample is within the "
                   "1 % search tolerance (the two simulators agree step for step, "
                   "validation/results/neuron_crosscheck.md)."), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
