"""The task's data for a run: the checks that a config fits it, the splits on the device, the
evaluation pool, and the training batches."""

from typing import Any

import jax
import numpy as np

from ssmtune.models._config import ModelConfig
from ssmtune.models._errors import ConfigError
from ssmtune.models._options import TrainOptions
from ssmtune.models._time_channel import empty_time

__all__ = ["fit_config", "checked_splits", "device_split", "eval_pool", "Batches"]


def fit_config(config: Any, data_info: Any, include_time: bool) -> Any:
    """The config with its data-dependent fields set from a task.

    Args:
        config: a `ModelConfig`.
        data_info: the task's `tasks.TaskInfo`.
        include_time: whether the input carries the extra time channel.

    Returns:
        A validated copy with `in_channels` (channels, + 1 with time), `out_dim` (classes or
        outputs per step) and `head` ("classification" or "regression") set.
    """
    return config.replace(
        in_channels=int(data_info.channels) + int(bool(include_time)),
        out_dim=int(data_info.classes),
        head=str(data_info.kind),
    )


def _check_inputs(config: Any, data: Any, options: Any, seed: Any) -> list[Any]:
    if not isinstance(config, ModelConfig):
        raise ConfigError(
            f"train() needs a config from models.config(); got {type(config).__name__}"
        )
    if not isinstance(options, TrainOptions):
        raise ConfigError(f"train() needs a TrainOptions; got {type(options).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"train(): seed must be an integer >= 0, got {seed!r}")
    info = data.info
    splits = [data.train, data.val, data.test]
    for name, split in zip(("train", "val", "test"), splits, strict=True):
        if split.n == 0:
            raise ConfigError(f"task {info.name}: the {name} split is empty")
    channels = splits[0].x.shape[-1]
    if options.include_time and channels == info.channels:
        from ssmtune.tasks import add_time

        splits = [add_time(s) for s in splits]
        channels += 1
    wanted = {"in_channels": channels, "out_dim": info.classes, "head": info.kind}
    wrong = [
        f"{k}={getattr(config, k)!r} (data: {v!r})"
        for k, v in wanted.items()
        if getattr(config, k) != v
    ]
    if wrong:
        raise ConfigError(
            f"{config.name} config does not fit task {info.name}: {', '.join(wrong)}; "
            "set it with models.fit_config(config, data.info, include_time)"
        )
    return splits


def checked_splits(config: Any, data: Any, options: Any, seed: Any) -> list[Any]:
    """The train, validation and test splits of a run, checked against its config, options and
    seed; without the time channel, with an empty one in its place (`models/_time_channel.py`).

    Raises:
        ConfigError: a config that does not fit the data (`fit_config` fits one), an empty
            split, options that are not a `TrainOptions`, or a bad seed.
    """
    splits = _check_inputs(config, data, options, seed)
    return splits if options.include_time else [empty_time(s) for s in splits]


def device_split(split: Any) -> Any:
    """A `tasks.Split` on the default device, inputs as float32 and masks as bool."""
    from ssmtune.tasks import Split

    tm = None if split.target_mask is None else np.asarray(split.target_mask, bool)
    host = Split(
        np.asarray(split.x, np.float32),
        np.asarray(split.y),
        np.asarray(split.mask, bool),
        tm,
    )
    return jax.device_put(host)


def eval_pool(val: Any, test: Any) -> Any:
    """Validation and test as one split on the device (validation first): the evaluation reads
    either by index, so one executable serves both (`models/_evaluate.py`)."""
    from ssmtune.tasks import Split

    def cat(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.concatenate([a, b])

    return device_split(Split(*(cat(a, b) for a, b in zip(val, test, strict=True))))


class Batches:
    """Training batches as index arrays: consecutive slices of a fresh random permutation of the
    n training cases for every epoch, drawn from a numpy generator; an epoch's tail continues
    into the next permutation, so every batch has `batch` cases and none is dropped."""

    def __init__(self, n: int, batch: int, rng: np.random.Generator):
        self.n, self.batch, self.rng = n, batch, rng
        self.pending = np.empty(0, np.int64)

    def state(self) -> tuple[dict[str, Any], list[int]]:
        """The generator's state and the cases of the current epoch not yet drawn, as JSON-ready
        values (a checkpoint, `models/_checkpoint.py`)."""
        return self.rng.bit_generator.state, [int(i) for i in self.pending]

    def restore(self, rng_state: dict[str, Any], pending: list[int]) -> None:
        """Continue from a `state()`: the next `take` draws what it would have drawn then."""
        self.rng.bit_generator.state = rng_state
        self.pending = np.asarray(pending, np.int64)

    def take(self, steps: int) -> np.ndarray:
        need = steps * self.batch
        parts = [self.pending]
        have = len(self.pending)
        while have < need:
            parts.append(self.rng.permutation(self.n))
            have += self.n
        flat = np.concatenate(parts)
        self.pending = flat[need:]
        return flat[:need].reshape(steps, self.batch).astype(np.int32)
