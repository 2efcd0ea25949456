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
`benchmarks/results/throughput-cpu.json` (`python -m benchmarks`: LinOSS-IM training steps at
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
"""

from __future__ import annotations

import math

__all__ = ["point_cost", "CONVOLUTIONAL", "CALIBRATION"]

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
    per_step = hidden * state + hidden**2
    if model in CONVOLUTIONAL:
        per_step += hidden * math.log2(max(length, 2))
    cost = length * hidden + blocks * length * per_step
    return float(cost * CALIBRATION.get(model, 1.0))
