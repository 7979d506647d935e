"""Formatting shared by RESULTS.md's renderers: times, ratios, Markdown tables,
and ``Medians``, one run's medians looked up by what they measured."""
import math

HEAD = ("784-30-10", 10)
MiB = 1024 ** 2


def fmt_s(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "—"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_x(ratio):
    return "—" if ratio is None or not math.isfinite(ratio) else f"{ratio:.2f}×"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


class Medians:
    def __init__(self, medians):
        self.m = medians

    def epoch(self, shape, m, threads, name):
        return self.m.get(("epoch", shape, m, threads, name))

    def ratio(self, shape, m, threads, slow, fast):
        a, b = self.epoch(shape, m, threads, slow), self.epoch(shape, m, threads, fast)
        return a / b if a and b else None

    def peak(self, dtype, threads):
        t = self.m.get(("peak", dtype, threads))
        return None if t is None else 2.0 * self.n ** 3 / t / 1e9
