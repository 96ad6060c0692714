"""How long ``import nmfbio`` takes against ``import numpy`` (issue 15: at most 3x on a quiet
machine), each in fresh interpreters, and which heavy modules the import loads.

    .venv/bin/python benchmarks/import_time.py            # 15 interpreters per statement
    .venv/bin/python benchmarks/import_time.py --runs 31

Prints the median wall time of each statement, the ratio, other processes' CPU share during
the run (a loaded machine inflates both sides), and the heavy modules present after
``import nmfbio`` (none expected). Also times ``nmfbio --help`` (only the CLI's table loads).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def _time(code: str, runs: int) -> float:
    times = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _busy_share(seconds: float = 0.5) -> float:
    """Share of the machine's CPU time used by other processes over ``seconds``."""
    def totals():
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]

    try:
        a_total, a_idle = totals()
        time.sleep(seconds)
        b_total, b_idle = totals()
    except OSError:
        return float("nan")
    return 1.0 - (b_idle - a_idle) / max(b_total - a_total, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    busy = _busy_share()
    bare = _time("pass", args.runs)
    numpy = _time("import numpy", args.runs) - bare
    nmfbio = _time("import nmfbio", args.runs) - bare
    cli = _time("from nmfbio.cli import main; import io, contextlib\n"
                "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])",
                args.runs) - bare
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, nmfbio; print(' '.join(m for m in ('numba', "
         "'matplotlib', 'anndata', 'pandas', 'scipy', 'numpy') if m in sys.modules))"],
        check=True, capture_output=True, text=True).stdout.strip()
    print(f"other processes' CPU share before the run: {busy:.0%}")
    print(f"interpreter start (subtracted): {bare * 1000:.1f} ms; medians of {args.runs}")
    print(f"import numpy         {numpy * 1000:7.1f} ms")
    print(f"import nmfbio        {nmfbio * 1000:7.1f} ms   ratio to numpy {nmfbio / numpy:.2f} "
          "(target <= 3)")
    print(f"nmfbio --help        {cli * 1000:7.1f} ms")
    print(f"heavy modules after import nmfbio: {loaded or 'none'}")


if __name__ == "__main__":
    main()
