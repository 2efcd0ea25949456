"""How the reports write figures for people: metric values and intervals."""

from __future__ import annotations

from typing import Any

__all__ = ["fmt_value", "fmt_interval"]


def fmt_value(v: float | None, metric: str) -> str:
    """A metric value for people: accuracy as a percentage, MSE with 4 significant digits."""
    if v is None:
        return "—"
    return f"{100 * v:.2f}%" if metric == "accuracy" else f"{v:.4g}"


def fmt_interval(iv: list[float | None] | None, fmt: Any) -> str:
    """'[low, high]' with `fmt` for each bound; an unbounded bound is ∞, no interval '—'.

    Example:
        >>> fmt_interval([0.25, None], lambda x: f"{x:.2f}")
        '[0.25, ∞]'
    """
    if iv is None:
        return "—"
    lo, hi = iv
    return f"[{'∞' if lo is None else fmt(lo)}, {'∞' if hi is None else fmt(hi)}]"
