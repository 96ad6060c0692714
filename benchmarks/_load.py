"""How busy the machine was: the share of CPU time used by other processes, printed with
every timing in benchmarks/ (on a shared 2-core machine other work slows the runs, not
necessarily equally). Linux only (/proc/stat); ``None`` elsewhere."""

from __future__ import annotations

import os
import resource
import time


class OtherLoad:
    """CPU share of processes other than this one and its children since creation."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            busy = (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait
        except (OSError, ValueError, IndexError):
            busy = None
        own = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            ru = resource.getrusage(who)
            own += ru.ru_utime + ru.ru_stime
        return time.perf_counter(), busy, own

    def fraction(self) -> float | None:
        """Other processes' share of all CPUs since creation, or None when unknown."""
        t1, b1, o1 = self._sample()
        t0, b0, o0 = self.start
        if b0 is None or b1 is None or t1 <= t0:
            return None
        return max(0.0, (b1 - b0) - (o1 - o0)) / ((t1 - t0) * (os.cpu_count() or 1))

    def text(self) -> str:
        """Short form: ``other load 12% BUSY``."""
        f = self.fraction()
        if f is None:
            return "other load: unknown"
        return f"other load {100 * f:.0f}%" + (" BUSY" if f > 0.05 else "")

    def long_text(self) -> str:
        """Sentence form, flagged when the machine was busy."""
        f = self.fraction()
        if f is None:
            return "other processes' CPU use: unknown"
        warn = "  <-- busy machine: timings less reliable" if f > 0.05 else ""
        return f"other processes used {100 * f:.0f}% of the CPUs meanwhile{warn}"
