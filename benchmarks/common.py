"""Helpers shared by the benchmark scripts: cases in their own process, machine description."""
from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (GB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def load_average() -> float:
    """The 1-minute load average (runnable processes; the machine is shared)."""
    return os.getloadavg()[0]


def machine() -> str:
    """One line naming the machine the benchmark ran on."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run_case(script: str, *args) -> dict | None:
    """Run ``script --case ARGS`` in a fresh Python process (so its peak memory is its own) and
    return the JSON dict it prints last; None (with its stderr reported) if it failed."""
    proc = subprocess.run([sys.executable, script, "--case", *map(str, args)], check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"case {args} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])
