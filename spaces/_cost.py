"""The estimated training cost of one configuration, for compute-weighted space sizes.

Every grid point is trained under the same protocol (batch size, number of steps, early
stopping), so the points differ in cost through the cost of one training step, which is
proportional to the work of one forward pass over one sequence. We count multiply-adds
per sequence of length L (backward ~ 2x forward for every layer, so the factor cancels in
ratios):

    recurrent layers (linoss, d-linoss, lru):
        cost = L * H  +  blocks * L * (H * P + H**2)
    convolutional layers (s4, s4d, hope):
        cost = L * H  +  blocks * L * (H * P + H**2 + H * log2(L))

with H = `hidden`, P = `state`:
- `L * H` is the linear encoder (its input width is the task's channel count, of order one
  to a few dozen; counted as one channel so that the size depends on the space only);
- `H * P` is the state projection B (H -> P) and readout C (P -> H) per step, and for the
  convolutional layers the generation of the length-L kernel from P modes per channel;
  the recurrence itself is O(P) per step and is dropped;
- `H**2` is the channel mixing (GLU/linear, H -> H) of the shared residual block;
- `H * log2(L)` is the FFT convolution of each channel (s4, s4d, hope).

The units are arbitrary (multiply-adds up to a constant); only ratios between spaces (and
between points) are meant to be read. `CALIBRATION` holds a per-model factor, 1 by default:
the check against measured step times is `tests/spaces/test_spaces_cost.py`, which reads
`benchmarks/results/throughput-cpu.json` (`python -m ssmtune.benchmarks`: LinOSS-IM training steps at
the paper's best Heartbeat, SelfRegulationSCP1 and EigenWorms configurations) and asserts that
the formula orders seconds per example-step the way the clock does. On that table (2-core CPU,
`auto` scan, idle machine, 2026-11-22) the per-example step times are 2.4 ms, 75 ms and 0.31 s,
and the formula's costs rank them the same way (1.3e6, 2.6e8, 8.9e8).

A spot check on a shared 2-core CPU (jax 0.10.2, forward+backward, batch 8, L=400, one
block or two, (H, P) in {16, 64, 128, 256}; LinOSS with the sequential scan, and S4D): the
formula ranks five sizes with Spearman 0.9 for both models; for LinOSS it under-weights a
large state (H=64, P=256 ran ~1.8x slower than H=P=128, the formula says 0.6x), so
state-heavy LinOSS points cost somewhat more than estimated on CPU. The D-LinOSS-vs-LinOSS
comparison is unaffected: the two grids hold the same (blocks, H, P) points.

Example:
    >>> point_cost("linoss", blocks=2, hidden=16, state=16, length=100)
    104000.0

Predicting a trial's seconds (`predict_seconds`, for ``--budget-hours``): the formula's units
have no time in them, so a study calibrates them with what its own finished trials measured:
seconds of training per unit-step (a trial's training seconds, compilation excluded, over its
`point_cost` times the steps it ran) and seconds of compilation, per compile shape. A new
trial's prediction takes the figures of its own shape, else of the measured shape nearest in
`point_cost` (the smallest ``|log(cost / measured cost)|``): its `point_cost` times the steps it
may run times the seconds per unit-step, plus the shape's compilation time unless the worker
that will run it has compiled that shape already.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Sequence
from typing import NamedTuple

__all__ = ["point_cost", "CONVOLUTIONAL", "CALIBRATION", "Measured", "predict_seconds"]

#: Models computed as a long convolution (FFT) rather than a scan.
CONVOLUTIONAL = frozenset({"s4", "s4d", "hope"})

#: Per-model factor on the formula (measured step time / formula); 1 until calibrated.
CALIBRATION: dict[str, float] = {}


def point_cost(model: str, *, blocks: int, hidden: int, state: int, length: int) -> float:
    """The estimated cost of training one configuration, in multiply-adds per sequence.

    Args:
        model: the model name (decides scan vs FFT convolution).
        blocks: number of residual blocks (layers).
        hidden: model width H.
        state: state size P (oscillators, states or SSM modes).
        length: the task's sequence length L.

    Returns:
        `L*H + blocks*L*(H*P + H^2 [+ H*log2 L for s4, s4d, hope])`, times `CALIBRATION[model]`.
    """
    per_step: float = hidden * state + hidden**2
    if model in CONVOLUTIONAL:
        per_step += hidden * math.log2(max(length, 2))
    cost = length * hidden + blocks * length * per_step
    return float(cost * CALIBRATION.get(model, 1.0))


class Measured(NamedTuple):
    """What one finished trial measured, to calibrate `point_cost` in seconds.

    Attributes:
        shape: its compile shape (trials of one shape share one executable).
        units: its `point_cost`.
        steps: the training steps it ran (fewer than the protocol's when pruned or stopped).
        run_s: its seconds of training, compilation excluded.
        compile_s: its seconds of compilation (0 when its worker had the shape compiled).
    """

    shape: Hashable
    units: float
    steps: int
    run_s: float
    compile_s: float


def predict_seconds(
    units: float,
    steps: int,
    shape: Hashable,
    measured: Sequence[Measured],
    *,
    compiled: bool = False,
) -> float | None:
    """The seconds a trial should take, from the trials a study has measured (module docstring).

    Args:
        units: the trial's `point_cost`.
        steps: the steps it may run (the protocol's `max_steps`: early stopping only shortens).
        shape: its compile shape.
        measured: the study's finished trials; those without steps or units are ignored.
        compiled: whether the worker that will run it has compiled `shape` already.

    Returns:
        The median seconds per unit-step of the same shape (else of the nearest measured
        shape) times ``units * steps``, plus the largest compilation time measured for that
        shape unless `compiled`; None when nothing is measured yet.

    Example:
        >>> done = [Measured("a", 100.0, 10, 2.0, 1.5), Measured("a", 100.0, 10, 2.0, 0.0)]
        >>> predict_seconds(300.0, 10, "b", done)  # nearest shape "a": 3 x 2 s, + 1.5 s
        7.5
        >>> predict_seconds(100.0, 10, "a", done, compiled=True)
        2.0
    """
    usable = [m for m in measured if m.units > 0 and m.steps > 0 and m.run_s >= 0]
    if not usable:
        return None
    same = [m for m in usable if m.shape == shape]
    if not same:
        scale = math.log(units) if units > 0 else 0.0
        nearest = min(usable, key=lambda m: abs(math.log(m.units) - scale))
        same = [m for m in usable if m.shape == nearest.shape]
    per_unit_step = statistics.median(m.run_s / (m.units * m.steps) for m in same)
    compile_s = 0.0 if compiled else max(m.compile_s for m in same)
    return per_unit_step * units * steps + compile_s
