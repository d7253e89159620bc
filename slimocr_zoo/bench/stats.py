"""Latency statistics in milliseconds, the figures Paddle Lite's benchmark reports and then some."""
from __future__ import annotations

import math
from typing import Dict, Sequence


def summarize(samples_ms: Sequence[float]) -> Dict[str, float]:
    if not samples_ms:
        raise ValueError("no samples")
    s = sorted(samples_ms)
    n = len(s)
    mean = sum(s) / n
    var = sum((x - mean) ** 2 for x in s) / n

    def pct(p):  # nearest-rank percentile
        return s[min(n - 1, max(0, math.ceil(p / 100 * n) - 1))]

    return {"n": n, "min": s[0], "median": (s[(n - 1) // 2] + s[n // 2]) / 2, "mean": mean, "p90": pct(90),
            "max": s[-1], "std": math.sqrt(var)}
