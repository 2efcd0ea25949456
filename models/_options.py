"""How one config is trained (`TrainOptions`: the protocol's settings, validated) and what one
run measured (`TrainResult`)."""

import dataclasses
import typing
from typing import Any, ClassVar, Literal, NamedTuple

from ssmtune.models._checks import check_bool, check_choice, check_int, check_number
from ssmtune.models._errors import ConfigError

__all__ = ["TrainOptions", "TrainResult", "Evaluation", "train_option_names", "STATUSES"]

OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "cosine")
#: How a run ends (`TrainResult.status`).
STATUSES = ("ok", "early_stopped", "pruned", "diverged")


@typing.no_type_check
@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """How one config is trained; the defaults are the LinOSS benchmark protocol.

    Attributes:
        lr: learning rate (peak learning rate with a schedule).
        ssm_lr: learning rate of the SSM parameters (see `ssm_labels`); they also get no
            weight decay. None: the SSM parameters are treated like all the others.
        optimizer: "adam" (weight decay, if any, is an L2 term added to the gradient, as
            PyTorch's Adam) or "adamw" (decoupled weight decay, Loshchilov & Hutter).
        weight_decay: weight decay coefficient (>= 0).
        schedule: "constant", or "cosine" (half-cosine decay from `lr` to 0 between the end of
            the warmup and `max_steps`).
        warmup_steps: linear warmup from lr / warmup_steps to lr over this many steps (0: none).
        batch_size: training cases per step.
        max_steps: the most training steps.
        eval_every: steps between two evaluations on validation.
        patience: evaluations in a row without strict improvement that are tolerated; the run
            stops at the next one (the official `no_val_improvement > 10` for patience 10).
        include_time: prepend the channel t/L to the input (`tasks.load(include_time=...)`).

    Example:
        >>> TrainOptions(lr=1e-4, max_steps=2_000).eval_every
        1000
    """

    lr: float = 1e-3
    ssm_lr: float | None = None
    optimizer: Literal["adam", "adamw"] = "adam"
    weight_decay: float = 0.0
    schedule: Literal["constant", "cosine"] = "constant"
    warmup_steps: int = 0
    batch_size: int = 32
    max_steps: int = 100_000
    eval_every: int = 1_000
    patience: int = 10
    include_time: bool = False

    _POSITIVE_INTS: ClassVar[tuple[str, ...]] = ("batch_size", "max_steps", "eval_every")
    _NON_NEGATIVE_INTS: ClassVar[tuple[str, ...]] = ("warmup_steps", "patience")

    def __post_init__(self) -> None:
        def store(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for name in ("lr", "ssm_lr"):
            value = getattr(self, name)
            if value is None and name == "ssm_lr":
                continue
            lr = check_number(f"train option {name}", value, finite=True, expected="a number > 0")
            if lr <= 0:
                raise ConfigError(f"train option {name} must be a number > 0, got {value!r}")
            store(name, float(lr))
        wd = check_number(
            "train option weight_decay", self.weight_decay, finite=True, expected="a number >= 0"
        )
        if wd < 0:
            raise ConfigError(f"train option weight_decay must be a number >= 0, got {wd!r}")
        store("weight_decay", float(wd))
        store("optimizer", check_choice("train option optimizer", self.optimizer, OPTIMIZERS))
        store("schedule", check_choice("train option schedule", self.schedule, SCHEDULES))
        for name, minimum in [(n, 1) for n in self._POSITIVE_INTS] + [
            (n, 0) for n in self._NON_NEGATIVE_INTS
        ]:
            store(name, check_int(f"train option {name}", getattr(self, name), minimum=minimum))
        store("include_time", check_bool("train option include_time", self.include_time))

    def replace(self, **fields: Any) -> "TrainOptions":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **fields)


def train_option_names() -> tuple[str, ...]:
    """The field names of `TrainOptions` (for validating spaces and `--set` keys)."""
    return tuple(f.name for f in dataclasses.fields(TrainOptions))


class Evaluation(NamedTuple):
    """One evaluation of a run: what a replay of the run needs (`TrainResult.evaluations`).

    Attributes:
        step: training steps taken.
        val: the validation metric.
        test: the test metric, read when `val` is the run's best so far (the test at the best
            validation, the run's own rule), else None: a replay that stops the run at any
            evaluation finds its best so far at an evaluation whose test was read.
        elapsed_s: wall seconds from the start of the run to this evaluation, set-up and
            compilation included (and the interrupted runs' before a resume).
    """

    step: int
    val: float
    test: float | None
    elapsed_s: float


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What one training run measured.

    Attributes:
        val: best validation metric (accuracy in [0, 1], or MSE); None if the run stopped
            before its first evaluation.
        test: test metric at the (last) best validation; None likewise.
        metric: "accuracy" or "mse".
        status: "ok" (reached max_steps), "early_stopped", "pruned" (the callback asked) or
            "diverged" (a NaN or infinite loss or validation metric).
        steps: training steps taken (the diverging step included).
        best_step: step of the best validation (0 if none).
        wall_s: seconds spent in `train`, compilation and data transfer included.
        compile_s: seconds spent tracing and compiling (0.0 when every step function came
            from the in-process cache).
        examples_per_s: training cases per second of the training steps (compilation and
            evaluation excluded).
        device: device kind, e.g. "cpu", "NVIDIA H100 80GB HBM3".
        device_count: devices used (a run uses one device).
        peak_mem: bytes: the device's peak memory in use on an accelerator (the allocator's
            figure, process-wide since start), the process's peak resident set size on the
            CPU; None where neither is known.
        diverged_step: the step whose loss was not finite (status "diverged"), else None.
        history: (step, validation metric) at every evaluation (those before a resume
            included).
        evaluations: every evaluation with its test metric (where read) and the seconds
            since the run started (`Evaluation`; those before a resume included).
        resumed_step: the step of the checkpoint the run continued from; None for a run
            from step 0 (`models.Checkpoint`).
        prior_s: wall seconds the interrupted runs had spent up to that checkpoint (not in
            `wall_s`, which is this call's).
        checkpoint_s: seconds the training loop was blocked by each checkpoint of this call
            (the host copy and the hand-off to the background writer, in `wall_s`).
        checkpoint_write_s: seconds each checkpoint's background write took (serialise,
            fsync, rename), overlapping the training.
    """

    val: float | None
    test: float | None
    metric: str
    status: str
    steps: int
    best_step: int
    wall_s: float
    compile_s: float
    examples_per_s: float
    device: str
    device_count: int
    peak_mem: int | None
    diverged_step: int | None
    history: list[tuple[int, float]]
    resumed_step: int | None = None
    prior_s: float = 0.0
    checkpoint_s: tuple[float, ...] = ()
    checkpoint_write_s: tuple[float, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        out = dataclasses.asdict(self)
        out["history"] = [[s, v] for s, v in self.history]
        out["evaluations"] = [list(e) for e in self.evaluations]
        return out
