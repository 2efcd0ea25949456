"""Checkpoints of a training run: its whole state at an evaluation, so that a run killed
afterwards continues from there instead of from step 0, and ends exactly as it would have.

A run's checkpoints live in one folder of its own (`Checkpoint.folder`); only the latest is
kept. A checkpoint is a sub-folder ``step-<step>`` holding two files:

- ``state.eqx``: the arrays (parameters, optimiser state, batch-norm state, the dropout key's
  data), leaf after leaf in numpy's ``.npy`` format, written by equinox's
  `tree_serialise_leaves` and read back into the run's own structure by
  `tree_deserialise_leaves` (no pickle: ``np.load`` refuses objects);
- ``manifest.json``: the format version, the run's identity (its model config, training
  options, seed and the structure of its arrays: `shape_key`), the SHA-256 of ``state.eqx``
  and the host side of the run (`RunState`: the step, the batch order's generator and the
  cases it still holds, the best validation with its step and the test metric read there, the
  early-stop count, the evaluation history, the seconds spent).

It is written into a hidden temporary folder, then renamed into place (atomic on a POSIX
filesystem: a reader sees a whole checkpoint or none), then the older ones are removed. A
checkpoint whose manifest does not match the run (another config, options, seed, array
structure or format) or that cannot be read whole (a bad checksum, a truncated file) is not
used: the run starts afresh and `Checkpoint.on_resume` hears why.

The write is off the training path: `Checkpointer.save` copies the arrays to host memory (a
device-to-host copy; the training thread waits for that only) and hands the copy to the
run's writer thread (started with the run), which serialises, fsyncs and renames it while
training goes on. One write at a time per run: a save that finds the previous write still in
flight waits for it first, and `Checkpointer.close` (the end of the run, a normal one or an
exception) waits for the last one and ends the thread, so no write outlives `models.train`
and the run's folder can be deleted once it returns. A write that failed raises in the
training thread at the next save or at `close`. So the checkpoint of an evaluation may land
after the evaluation's callback (the report to the study) has run: a process killed in
between continues from the evaluation before, re-runs those steps (deterministically: the
same values at the same steps) and calls the callback of that evaluation again. A kill
mid-write leaves a hidden temporary folder that is never read, and the previous checkpoint
intact.

Restoring gives the run the same arrays, the same batches from the same step and the same
dropout masks (they are drawn from the dropout key folded with the step, `models/_step.py`),
so on the CPU a resumed run is bit-identical to one never interrupted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import equinox as eqx
import jax
import numpy as np

from ssmtune.models._options import Evaluation

__all__ = [
    "FORMAT",
    "Checkpoint",
    "Resume",
    "RunState",
    "Checkpointer",
    "shape_key",
    "latest_checkpoint",
    "delete_checkpoints",
    "to_host",
    "write_checkpoint",
]

#: The checkpoint format this code writes and reads; a checkpoint of another format is not
#: used (the run starts afresh). 2: the run state holds its evaluations with their test
#: metric and time (`RunState.evaluations`).
FORMAT = 2
_STATE, _MANIFEST, _PREFIX = "state.eqx", "manifest.json", "step-"


@dataclasses.dataclass(frozen=True)
class Resume:
    """What a run found in its checkpoint folder when it started.

    Attributes:
        step: the step it continues from; None for a fresh start.
        spent_s: wall seconds the interrupted runs had spent up to that checkpoint (0.0 fresh).
        reason: why a checkpoint that was there is not used ("corrupt: ...", "mismatch:
            ..."); None when it is used or when there was none.
    """

    step: int | None
    spent_s: float = 0.0
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """Where `models.train` keeps the latest checkpoint of a run, written at each evaluation.

    Attributes:
        folder: the run's own folder (created if missing). A run started with a folder that
            holds a matching checkpoint continues from it.
        on_resume: called once, before the first step, with the `Resume` found.

    Example:
        >>> Checkpoint("/tmp/ssmtune-example/run-1").folder
        PosixPath('/tmp/ssmtune-example/run-1')
    """

    folder: Path
    on_resume: Callable[[Resume], None] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))


class RunState(NamedTuple):
    """The host side of one run at an evaluation (the arrays are saved beside it).

    Attributes:
        step: training steps taken.
        rng: the batch order's generator state (``Generator.bit_generator.state``).
        pending: the training cases of the current epoch not yet drawn (`models._data.Batches`).
        best_val, best_step, bad_evals: the early-stop state (`models._early_stop`).
        best_test: the test metric read at the best validation.
        history: (step, validation metric) of every evaluation so far.
        spent_s: wall seconds the run had spent (set-up and compilation included), those
            of the runs it continues included.
        evaluations: every evaluation so far with its test metric and time
            (`models.Evaluation`), so a resumed run reports the whole record.
    """

    step: int
    rng: dict[str, Any]
    pending: list[int]
    best_val: float | None
    best_step: int
    bad_evals: int
    best_test: float | None
    history: list[tuple[int, float]]
    spent_s: float
    evaluations: list[Evaluation]

    def to_json(self) -> dict[str, Any]:
        out = self._asdict()
        out["history"] = [[s, v] for s, v in self.history]
        out["evaluations"] = [list(e) for e in self.evaluations]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        fields = {k: data[k] for k in cls._fields}
        fields["history"] = [(int(s), float(v)) for s, v in data["history"]]
        fields["evaluations"] = [
            Evaluation(int(s), float(v), None if t is None else float(t), float(e))
            for s, v, t, e in data["evaluations"]
        ]
        return cls(**fields)


def shape_key(tree: Any) -> str:
    """A digest of a pytree's structure and of its arrays' shapes and dtypes: two runs whose
    keys are equal can read each other's arrays (the structure names the model's classes and
    their static fields, so a changed model changes it).

    Example:
        >>> shape_key({"a": np.zeros(2)}) == shape_key({"a": np.ones(2)})
        True
    """
    leaves, treedef = jax.tree.flatten(tree)
    kinds = [(tuple(np.shape(x)), str(getattr(x, "dtype", type(x).__name__))) for x in leaves]
    text = str(treedef) + repr(kinds)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _jsonable(value: Any) -> Any:
    """A run's config or options as JSON (dataclasses as dicts, tuples as lists)."""
    return json.loads(json.dumps(value, default=str))


def latest_checkpoint(folder: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint (``step-*`` sub-folder) in a run's folder, or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = []
    for child in folder.iterdir():
        step = child.name.removeprefix(_PREFIX)
        if child.name.startswith(_PREFIX) and step.isdigit() and child.is_dir():
            found.append((int(step), child))
    return max(found)[1] if found else None


def delete_checkpoints(folder: str | os.PathLike) -> None:
    """Remove a run's folder and every checkpoint in it (nothing when it is not there).

    Safe once the run's `models.train` has returned or raised: it waits for its last
    background write first, so nothing writes into the folder afterwards."""
    shutil.rmtree(folder, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Refused(Exception):
    """A checkpoint that is there but not usable; the message is the reason."""


class Checkpointer:
    """One run's checkpoints: `restore` at its start, `save` at each evaluation, `close` at
    its end (see the module docstring for the background write).

    Args:
        checkpoint: where, and who hears what was found.
        identity: what the run is: its config, options and seed as JSON-ready values; a
            checkpoint is used only by a run of the same identity and array structure.

    Attributes:
        bytes: the size of the last checkpoint written.
        saves: checkpoints written.
        write_s: the background seconds of each write (serialise, fsync, rename, clean up).
    """

    def __init__(self, checkpoint: Checkpoint, identity: dict[str, Any]) -> None:
        self.folder = checkpoint.folder
        self.on_resume = checkpoint.on_resume
        self.identity = _jsonable(identity)
        self.bytes = 0
        self.saves = 0
        self.write_s: list[float] = []
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None  # started by `restore`, ended by `close`
        self._pending: threading.Event | None = None  # set when the write in flight is over
        self._error: BaseException | None = None

    def _manifest_identity(self, tree: Any) -> dict[str, Any]:
        return {**self.identity, "shape_key": shape_key(tree)}

    def restore(self, like: Any) -> tuple[Any, RunState] | None:
        """The arrays (in the structure of `like`) and the host state of the latest
        checkpoint, or None for a fresh start; tells `on_resume` either way. Starts the
        run's writer thread (so that no save waits for a thread to start)."""
        self._start_writer()
        path = latest_checkpoint(self.folder)
        found = None
        resume = Resume(step=None)
        if path is not None:
            try:
                found = self._read(path, like)
                resume = Resume(step=found[1].step, spent_s=found[1].spent_s)
            except _Refused as exc:
                resume = Resume(step=None, reason=f"{path.name}: {exc}")
        if self.on_resume is not None:
            self.on_resume(resume)
        return found

    def _read(self, path: Path, like: Any) -> tuple[Any, RunState]:
        try:
            manifest = json.loads((path / _MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise _Refused(f"corrupt: cannot read {_MANIFEST} ({type(exc).__name__})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            got = manifest.get("format") if isinstance(manifest, dict) else None
            raise _Refused(f"mismatch: checkpoint format {got!r}, this code reads {FORMAT}")
        mine, theirs = self._manifest_identity(like), manifest.get("identity") or {}
        differ = sorted(k for k in {*mine, *theirs} if mine.get(k) != theirs.get(k))
        if differ:
            raise _Refused(f"mismatch: {', '.join(differ)} differ from this run's")
        state_file = path / _STATE
        try:
            if _sha256(state_file) != manifest.get("sha256"):
                raise _Refused(f"corrupt: {_STATE} does not match its checksum")
            tree = eqx.tree_deserialise_leaves(state_file, like)
            state = RunState.from_json(manifest["state"])
        except _Refused:
            raise
        except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is refused
            raise _Refused(f"corrupt: {type(exc).__name__}: {exc}"[:300]) from None
        return tree, state

    def save(self, tree: Any, state: RunState) -> None:
        """Start writing the checkpoint of `state` (and its arrays `tree`) in the background.

        Waits for the previous write first (raising its error, if it failed), copies the
        arrays to host memory, and returns while a thread writes them; the checkpoint is
        on disk once `wait` (or the next `save`) returns."""
        self.wait()
        self._start_writer()
        host = to_host(tree)
        self._pending = threading.Event()
        self._jobs.put((host, self._manifest_identity(host), state, self._pending))

    def wait(self) -> None:
        """Wait for the write in flight, if any; raise its error if it failed."""
        if self._pending is not None:
            self._pending.wait()
            self._pending = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self, *, quiet: bool = False) -> None:
        """The end of the run: wait for the last write and end the writer thread (`quiet`:
        without raising the write's error, when the run is ending with an error of its own)."""
        try:
            self.wait()
        except BaseException:
            if not quiet:
                raise
        finally:
            if self._writer is not None:
                self._jobs.put(None)
                self._writer.join()
                self._writer = None

    def _start_writer(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._serve, name="ssmtune-checkpoint", daemon=True
            )
            self._writer.start()

    def _serve(self) -> None:
        """The writer thread: one job at a time until `close` sends None."""
        while (job := self._jobs.get()) is not None:
            host, identity, state, done = job
            tick = time.perf_counter()
            try:
                self.bytes = write_checkpoint(self.folder, host, identity, state)
                self.saves += 1
                self.write_s.append(time.perf_counter() - tick)
            except BaseException as exc:  # raised in the training thread (`wait`)
                self._error = exc
            finally:
                done.set()


def to_host(tree: Any) -> Any:
    """`tree` with each array leaf copied to host memory (a NumPy array owning its data):
    what the background write reads while training goes on with the device's arrays.

    Example:
        >>> import jax.numpy as jnp
        >>> type(to_host({"w": jnp.ones(2)})["w"]).__name__
        'ndarray'
    """
    leaves = [x for x in jax.tree.leaves(tree) if isinstance(x, jax.Array)]
    for leaf in leaves:  # start every transfer before waiting for the first
        if not jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf.copy_to_host_async()

    def copy(x: Any) -> Any:
        if isinstance(x, jax.Array) and not jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return np.array(x, copy=True)
        return x

    return jax.tree.map(copy, tree)


def write_checkpoint(folder: Path, tree: Any, identity: dict[str, Any], state: RunState) -> int:
    """Write one checkpoint of `state` into `folder` (a hidden temporary folder, fsynced,
    renamed into place), drop the older ones; return its size in bytes. A kill at any point
    leaves the checkpoints that were there whole."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        with (tmp / _STATE).open("wb") as f:
            eqx.tree_serialise_leaves(f, tree)
            f.flush()
            os.fsync(f.fileno())  # whole on disk before the rename makes it visible
        manifest = {
            "format": FORMAT,
            "identity": identity,
            "sha256": _sha256(tmp / _STATE),
            "state": state.to_json(),
        }
        with (tmp / _MANIFEST).open("w") as f:
            f.write(json.dumps(manifest))
            f.flush()
            os.fsync(f.fileno())
        final = folder / f"{_PREFIX}{state.step:012d}"
        shutil.rmtree(final, ignore_errors=True)  # a run repeating a step it reached
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in final.iterdir())
    for child in folder.iterdir():
        step = child.name.removeprefix(_PREFIX)
        if child.name.startswith(_PREFIX) and step.isdigit() and int(step) < state.step:
            shutil.rmtree(child, ignore_errors=True)
    return size
