"""From a SimNIBS subject folder to a TMS answer at C3: placement by EEG name and by MNI
coordinate, |E| in a region of interest, and the field on the cortex.

A real study starts from ``m2m_<id>/`` as SimNIBS' ``charm`` writes it. So that this script runs
anywhere, it first lays out such a folder from the built-in demo head: the head mesh
(``demo.msh``, mm), an EEG cap (``eeg_positions/EEG10-10_UI_Jurak_2007.csv``, the demo head's
10-10 cap computed from its fiducials) and a 12-DOF MNI transformation
(``toMNI/MNI2conform_12DOF.txt``, here the identity: the demo head stands in MNI space).
With your own subject, skip ``make_subject`` and give its folder.

    python examples/subject_to_c3.py [--out DIR] [--subject m2m_<id>]

The same from the command line:

    tmsfield simulate --subject m2m_demo --position C3 --handle-toward CP3 --roi X,Y,Z,10 --cortex
    tmsfield simulate --subject m2m_demo --mni -37,-21,58
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.head_models.gmsh_msh import write_msh
from tmsfield.solver.results import SphereROI, save_folder


def make_subject(folder: Path, resolution: str = "coarse") -> Path:
    """A charm-like subject folder ``folder`` (m2m_demo) made from the demo head."""
    head = tf.head_models.demo_head(resolution)
    (folder / "eeg_positions").mkdir(parents=True, exist_ok=True)
    (folder / "toMNI").mkdir(exist_ok=True)
    write_msh(folder / "demo.msh", 1e3 * head.nodes, tetrahedra=head.tets, tetrahedron_tags=head.tags)
    cap = tf.head_models.cap_10_10(head.scalp, tf.head_models.demo_head_fiducials())
    rows = [f"{'Fiducial' if name in ('Nz', 'Iz', 'LPA', 'RPA') else 'Electrode'},"
            f"{1e3 * p[0]:.4f},{1e3 * p[1]:.4f},{1e3 * p[2]:.4f},{name}" for name, p in cap.items()]
    (folder / "eeg_positions" / "EEG10-10_UI_Jurak_2007.csv").write_text("\n".join(rows) + "\n")
    np.savetxt(folder / "toMNI" / "MNI2conform_12DOF.txt", np.eye(4))
    return folder


def main(out: Path, subject: Path | None = None) -> dict:
    """Simulate a figure-8 at C3 (handle towards CP3) of ``subject`` (default: a demo folder made
    in ``out``) and at MNI M1; return the summaries and the files written."""
    subject = tf.load_subject(subject or make_subject(out / "m2m_demo"))
    head, coil = subject.head, tf.coils.figure8()
    c3, cp3 = subject.position("C3"), subject.position("CP3")
    pose = tf.CoilPose.on_head(head, center=c3, handle=cp3 - c3)
    result = tf.simulate(head, coil, pose, didt=1e8, order=1)
    # the region of interest: the brain within 10 mm of the cortex point nearest the scalp under C3
    under = result.placement()["nearest_scalp_point_mm"]
    mid, _ = head.grey_matter_midsurface()
    target = mid[np.argmin(np.linalg.norm(1e3 * mid - under, axis=1))]
    roi = SphereROI(center=tuple(target), radius=0.01, name="cortex under C3")
    folder = out / "c3"
    folder.mkdir(parents=True, exist_ok=True)
    files = save_folder(result, folder, rois=[roi], cortex=True, verbose=False)
    m1 = subject.mni_transform().to_subject([-37.0, -21.0, 58.0])[0]
    at_m1 = tf.simulate(head, coil, tf.CoilPose.on_head(head, center=m1), didt=1e8, order=1)
    c3 = result.summary_record(result.roi_statistics([roi]))
    return {"c3": c3, "m1": at_m1.summary_record(), "files": files, "folder": folder}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("subject_example"))
    parser.add_argument("--subject", type=Path, default=None, help="a SimNIBS m2m_<id> folder (default: a demo one)")
    args = parser.parse_args()
    done = main(args.out, args.subject)
    print((done["folder"] / "summary.txt").read_text())
    print("MNI M1 placement:", done["m1"]["placement"])
