import logging
import os
import time

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core import backend as backend_mod
from tmsfield.core import progress
from tmsfield.core.files import atomic_path, write_text_atomic


def test_cpu_backend_is_numpy():
    be = tf.get_backend("cpu")
    assert be.name == "cpu" and be.xp is np
    assert isinstance(be.to_numpy(be.asarray([1.0, 2.0])), np.ndarray)


def test_auto_falls_back_to_cpu_with_one_log_line(monkeypatch, caplog):
    backend_mod._gpu_or_reason.cache_clear()
    backend_mod._log_cpu_fallback.cache_clear()
    monkeypatch.setitem(__import__("sys").modules, "cupy", None)  # import cupy fails
    logging.getLogger("tmsfield").setLevel(logging.INFO)
    with caplog.at_level(logging.INFO, logger="tmsfield"):
        assert tf.get_backend("auto").name == "cpu"
        assert tf.get_backend("auto").name == "cpu"
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["backend='auto': numpy/scipy on the CPU (cupy is not installed)"]   # one quiet line
    with pytest.raises(RuntimeError, match="no GPU is usable"):
        tf.get_backend("gpu")
    backend_mod._gpu_or_reason.cache_clear()


def test_unknown_backend_name():
    with pytest.raises(ValueError, match="backend must be one of"):
        tf.get_backend("tpu")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert os.listdir(tmp_path) == []
    write_text_atomic(target, "done")
    assert target.read_text() == "done" and os.listdir(tmp_path) == ["out.txt"]


@pytest.fixture
def package_log_level():
    """Restore the package logger's level after a test that sets it."""
    logger = logging.getLogger("tmsfield")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_a_long_stage_shows_on_stderr_unless_quiet(capsys, monkeypatch, package_log_level):
    monkeypatch.setattr(progress, "STATUS_DELAY", 0.2)           # instead of a second, to run fast
    timings = {}
    progress.set_verbose(True)
    with progress.timed(timings, "meshing"):
        time.sleep(0.6)
    with progress.timed(timings, "quick step"):                 # ends before the delay: silent
        pass
    err = capsys.readouterr().err
    assert "meshing: 0." in err and "quick step" not in err
    progress.set_verbose(False)                                  # --quiet, verbose=False
    with progress.timed(timings, "meshing"):
        time.sleep(0.6)
    assert capsys.readouterr().err == ""
    assert timings["meshing"] >= 1.2 and set(timings) == {"meshing", "quick step"}   # accumulated
    with progress.timed(timings, "forced", verbose=True):        # an explicit verbose wins
        time.sleep(0.4)
    assert "forced: 0." in capsys.readouterr().err


def test_a_stage_with_a_known_duration_shows_the_time_left(capsys, monkeypatch, package_log_level):
    monkeypatch.setattr(progress, "STATUS_DELAY", 0.0)
    monkeypatch.setattr(progress, "STATUS_REFRESH", 0.05)
    with progress.timed({}, "generating", verbose=True, expected=20.0):
        time.sleep(0.4)
    with progress.timed({}, "overdue", verbose=True, expected=0.1):
        time.sleep(0.4)
    err = capsys.readouterr().err
    assert "~20 s left" in err or "~19 s left" in err           # 20 s expected, under a second gone
    assert "overdue: 0.3 s, finishing" in err or "overdue: 0.4 s, finishing" in err


def test_log_lines_go_around_a_status_line(capsys, monkeypatch, package_log_level):
    monkeypatch.setattr(progress, "STATUS_DELAY", 0.0)
    progress.set_verbose(True)
    with progress.timed({}, "solving"):
        time.sleep(0.3)
        package_log_level.info("half way")
        time.sleep(0.3)
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert "tmsfield: half way" in lines                         # on a line of its own
