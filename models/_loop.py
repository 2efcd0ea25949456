"""The host loop of training, shared by `models.train` (one member) and `models.train_batch`
(K members in one vmapped program): chunks of `eval_every` steps, the divergence check, the
evaluations, the early-stop bookkeeping (`models/_early_stop.py`), the callbacks and the cost
shares, and a single run's checkpoints (`models/_checkpoint.py`): restored before the first
chunk, handed to a background writer at each evaluation after which the run goes on (the loop
waits for the host copy only), and the last write waited for before the run returns or
raises. The protocol is described in
`models/_train.py`.

The loop sees the members through a `Members` record only: a training chunk and an evaluation
over all K members at once, whatever the compiled programs behind them are (one run's, or a
vmapped batch's).
"""

import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from ssmtune.models._checkpoint import Checkpointer, RunState
from ssmtune.models._data import Batches
from ssmtune.models._early_stop import EarlyStopState, early_stop
from ssmtune.models._options import Evaluation, TrainOptions, TrainResult

__all__ = ["Members", "Callback", "run_members"]

#: Called as ``callback(step, val)`` after each evaluation of a member; True prunes it.
Callback = Callable[[int, float], bool | None]


class Members(NamedTuple):
    """K members ready for their first step (`models/_train.py` `prepare`).

    Attributes:
        carry: the members' parameters, optimiser and batch-norm states, opaque to the loop.
        train_chunk: ``(carry, step, idx, active) -> (carry, losses)``: one chunk of
            `eval_every` steps from step `step` for every member, with the training-case indices
            `idx` (K, eval_every, batch) and the flags `active` (K, eval_every) of the steps
            to take (the others are skipped); `losses` (K, eval_every) on the host.
        evaluate: ``(carry, start, n) -> (K,)``: each member's metric over cases
            ``start .. start + n`` of the evaluation pool (validation, then test).
        n_train: training cases.
        n_val: validation cases (the first `n_val` of the pool).
        n_test: test cases (the next `n_test`).
        compile_s: seconds spent getting the executables, for all members together.
        keys: the members' dropout keys (a checkpoint's manifest records them).
    """

    carry: Any
    train_chunk: Callable[[Any, int, np.ndarray, np.ndarray], tuple[Any, np.ndarray]]
    evaluate: Callable[[Any, int, int], np.ndarray]
    n_train: int
    n_val: int
    n_test: int
    compile_s: float
    keys: Any = None


def peak_memory(device: Any) -> int | None:
    """The device's peak bytes in use (accelerators), the process's peak resident set size
    (CPU), or None where neither is known."""
    try:
        stats = device.memory_stats()
    except Exception:  # backends without allocator statistics
        stats = None
    if stats and "peak_bytes_in_use" in stats:
        return int(stats["peak_bytes_in_use"])
    if device.platform != "cpu":
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def run_members(
    members: Members,
    *,
    metric: str,
    options: Sequence[TrainOptions],
    seeds: Sequence[int],
    callbacks: Sequence[Callback | None],
    started: float,
    checkpoint: Checkpointer | None = None,
) -> list[TrainResult]:
    """Train every member to its end and measure it; one `TrainResult` per member, in order.

    Each member has its own batch order (its seed's generator), step budget, early stop,
    divergence check and callback; a member that stopped is masked (its steps are skipped) while
    the others run on. The wall time since `started` is shared out: the set-up equally, each
    chunk (its training and evaluations) equally between the members still running in it, so
    the members' `wall_s` add up to it; `compile_s` is shared equally.

    Args:
        members: the members' state and programs.
        metric: "accuracy" (maximised) or "mse" (minimised).
        options: one per member; `eval_every` and `batch_size` are the same for all.
        seeds: one per member: seeds its batch order.
        callbacks: one per member, or None.
        started: `time.perf_counter()` when the set-up began.
        checkpoint: a single member's checkpoints: the run continues from the latest one
            that matches it, and starts writing one at each evaluation after which it goes on,
            before its callback; the write may land after the callback, so a process killed
            in between continues from the evaluation before and calls the callback of this
            one again, with the same value. `TrainResult.checkpoint_s` holds the seconds the
            loop was blocked by each (host copy, hand-off, waiting for a previous write),
            `checkpoint_write_s` those of each background write.
    """
    k = len(options)
    maximize = metric == "accuracy"
    steps_per_chunk, batch = options[0].eval_every, options[0].batch_size
    carry, n_val, n_test = members.carry, members.n_val, members.n_test
    batches = [Batches(members.n_train, batch, np.random.default_rng(s)) for s in seeds]
    alive = np.ones(k, bool)
    steps = np.zeros(k, np.int64)
    tracks = [EarlyStopState()] * k
    best_test: list[float | None] = [None] * k
    history: list[list[tuple[int, float]]] = [[] for _ in range(k)]
    evaluations: list[list[Evaluation]] = [[] for _ in range(k)]
    status = ["ok"] * k
    diverged_step: list[int | None] = [None] * k
    last = time.perf_counter()
    share_s = np.full(k, (last - started) / k)  # set-up and compilation
    train_s = np.zeros(k)
    step = 0  # where the next chunk starts, for every running member
    prior_s, resumed_step = 0.0, None
    if checkpoint is not None:
        if k != 1:  # pragma: no cover - a caller's bug
            raise ValueError(f"a checkpoint is for one member, got {k}")
        found = checkpoint.restore(carry)
        if found is not None:
            carry, saved = found
            batches[0].restore(saved.rng, saved.pending)
            step = resumed_step = saved.step
            steps[0] = saved.step
            tracks[0] = EarlyStopState(saved.best_val, saved.best_step, saved.bad_evals)
            best_test[0], history[0] = saved.best_test, list(saved.history)
            evaluations[0] = list(saved.evaluations)
            prior_s = saved.spent_s
    first_step = steps.copy()
    blocked_s: list[float] = []  # the training thread's seconds per checkpoint
    try:
        while alive.any():
            running = alive.copy()
            n = np.where(
                running, np.minimum(steps_per_chunk, [o.max_steps - step for o in options]), 0
            )
            idx = np.zeros((k, steps_per_chunk, batch), np.int32)
            for i in np.flatnonzero(running):
                idx[i, : n[i]] = batches[i].take(int(n[i]))
            active = np.arange(steps_per_chunk)[None, :] < n[:, None]
            tick = time.perf_counter()
            carry, losses = members.train_chunk(carry, step, idx, active)
            train_s[running] += (time.perf_counter() - tick) / running.sum()
            step += steps_per_chunk
            for i in np.flatnonzero(running):
                bad = np.flatnonzero(~np.isfinite(losses[i, : n[i]]))
                if bad.size:
                    status[i], diverged_step[i] = "diverged", int(steps[i] + bad[0] + 1)
                    steps[i] = diverged_step[i]
                    alive[i] = False
                else:
                    steps[i] += n[i]
            if alive.any():
                vals = members.evaluate(carry, 0, n_val)
                # each running member's seconds so far: its share of the time since the last
                # turn on top of what it had (set-up and compilation included)
                elapsed = share_s + (time.perf_counter() - last) / running.sum() + prior_s
                read_test = np.zeros(k, bool)
                stop_early = np.zeros(k, bool)
                for i in np.flatnonzero(alive):
                    val = float(vals[i])
                    tracks[i], decision = early_stop(
                        tracks[i],
                        int(steps[i]),
                        val,
                        maximize=maximize,
                        patience=options[i].patience,
                    )
                    if decision.stop == "diverged":
                        status[i], diverged_step[i] = "diverged", int(steps[i])
                        alive[i] = False
                        continue
                    history[i].append((int(steps[i]), val))
                    evaluations[i].append(Evaluation(int(steps[i]), val, None, float(elapsed[i])))
                    read_test[i] = decision.new_best
                    stop_early[i] = decision.stop == "early_stopped"
                if read_test.any():
                    tests = members.evaluate(carry, n_val, n_test)
                    for i in np.flatnonzero(read_test):
                        best_test[i] = float(tests[i])
                        evaluations[i][-1] = evaluations[i][-1]._replace(test=best_test[i])
                if (
                    checkpoint is not None
                    and alive[0]
                    and not stop_early[0]
                    and steps[0] < options[0].max_steps
                ):
                    rng, pending = batches[0].state()
                    track = tracks[0]
                    tock = time.perf_counter()
                    checkpoint.save(
                        carry,
                        RunState(
                            step=int(steps[0]),
                            rng=rng,
                            pending=pending,
                            best_val=track.best_val,
                            best_step=int(track.best_step),
                            bad_evals=int(track.bad_evals),
                            best_test=best_test[0],
                            history=list(history[0]),
                            spent_s=prior_s + time.perf_counter() - started,
                            evaluations=list(evaluations[0]),
                        ),
                    )
                    blocked_s.append(time.perf_counter() - tock)
                for i in np.flatnonzero(alive):
                    callback = callbacks[i]
                    if callback is not None and callback(int(steps[i]), history[i][-1][1]):
                        status[i], alive[i] = "pruned", False
                    elif stop_early[i]:
                        status[i], alive[i] = "early_stopped", False
                    elif steps[i] >= options[i].max_steps:
                        alive[i] = False
            now = time.perf_counter()
            share_s[running] += (now - last) / running.sum()
            last = now
    except BaseException:
        if checkpoint is not None:  # the write in flight lands before the error goes on
            checkpoint.close(quiet=True)
        raise
    if checkpoint is not None:
        checkpoint.close()  # the last write on disk (or its error raised) before the result

    device = jax.devices()[0]
    peak = peak_memory(device)
    share_s += (time.perf_counter() - last) / k
    return [
        TrainResult(
            val=tracks[i].best_val,
            test=best_test[i],
            metric=metric,
            status=status[i],
            steps=int(steps[i]),
            best_step=int(tracks[i].best_step),
            wall_s=float(share_s[i]),
            compile_s=float(members.compile_s / k),
            examples_per_s=(
                float((steps[i] - first_step[i]) * batch / train_s[i]) if train_s[i] > 0 else 0.0
            ),
            device=str(device.device_kind),
            device_count=1,
            peak_mem=peak,
            diverged_step=diverged_step[i],
            history=history[i],
            resumed_step=resumed_step,
            prior_s=prior_s,
            checkpoint_s=tuple(blocked_s),
            checkpoint_write_s=tuple(checkpoint.write_s) if checkpoint is not None else (),
            evaluations=tuple(evaluations[i]),
        )
        for i in range(k)
    ]
