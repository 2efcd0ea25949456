"""Typed, frozen model configurations: one dataclass per registered model.

A config that validates is a config that builds: every check lives in `__post_init__` and
raises `models.ConfigError` with a one-line message naming the valid choices.

The config classes are exempt from the jaxtyping/beartype import hook (`typing.no_type_check`)
so that a wrongly typed value reaches our own validation and raises `ConfigError`, never a
type-checker error.
"""

import dataclasses
import math
import typing
from typing import Any, ClassVar, Literal

from ssmtune.models._checks import check_bool, check_choice, check_int, check_number
from ssmtune.models._errors import ConfigError

__all__ = [
    "construct",
    "ModelConfig",
    "LinOSSConfig",
    "DLinOSSConfig",
    "S4Config",
    "S4DConfig",
    "HOPEConfig",
    "LRUConfig",
]

HEADS = ("classification", "regression")
NORMS = ("batch", "layer")
SCANS = ("auto", "parallel", "sequential")


def _set(cfg: object, field: str, value: object) -> None:
    object.__setattr__(cfg, field, value)


def _subject(cfg: object, field: str) -> str:
    return f"{cfg.name}: {field}"  # type: ignore[attr-defined]


def _check_int(cfg: object, field: str, *, minimum: int) -> None:
    _set(cfg, field, check_int(_subject(cfg, field), getattr(cfg, field), minimum=minimum))


def _check_float(cfg: object, field: str, *, low: float, high: float, closed_high: bool) -> None:
    bracket = "]" if closed_high else ")"
    subject = _subject(cfg, field)
    value = check_number(
        subject, getattr(cfg, field), expected=f"a number in [{low}, {high}{bracket}"
    )
    ok = low <= value <= high if closed_high else low <= value < high
    if not ok:
        raise ConfigError(f"{subject} must be in [{low}, {high}{bracket}, got {value!r}")
    _set(cfg, field, value)


def _check_choice(cfg: object, field: str, choices: tuple[str, ...]) -> None:
    _set(cfg, field, check_choice(_subject(cfg, field), getattr(cfg, field), choices))


def _check_bool(cfg: object, field: str) -> None:
    _set(cfg, field, check_bool(_subject(cfg, field), getattr(cfg, field)))


def _check_range(cfg: object, low: str, high: str, *, lo: float, hi: float, positive: bool) -> None:
    name = cfg.name  # type: ignore[attr-defined]
    a, b = (check_number(_subject(cfg, field), getattr(cfg, field)) for field in (low, high))
    if not (lo <= a <= b <= hi) or (positive and a <= 0):
        bound = "0 <" if positive else f"{lo} <="
        raise ConfigError(
            f"{name}: need {bound} {low} <= {high} <= {hi}, got {low}={a!r}, {high}={b!r}"
        )
    _set(cfg, low, a)
    _set(cfg, high, b)


def construct(cls: type["ModelConfig"], fields: dict[str, Any]) -> "ModelConfig":
    """`cls(**fields)`, with an unknown field name a `ConfigError` that lists the valid ones."""
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(fields) - set(valid))
    if unknown:
        raise ConfigError(
            f"{cls.name}: unknown config field(s) {', '.join(unknown)}; valid fields: {', '.join(valid)}"
        )
    return cls(**fields)


@typing.no_type_check
@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Fields shared by every model (names fixed by the contracts; spaces and CLI use them).

    Attributes:
        in_channels: input channels of the data.
        out_dim: classes (classification) or outputs per step (regression).
        head: "classification" (masked mean over time, then linear) or "regression"
            (per-step linear readout).
        hidden: H, the width of the residual stream.
        state: P, oscillators / states per layer.
        blocks: number of residual blocks.
        dropout: dropout rate in [0, 1).
        norm: "batch" (batch norm over batch and time, no affine, as the official LinOSS code)
            or "layer".
    """

    name: ClassVar[str] = ""

    in_channels: int = 1
    out_dim: int = 2
    head: Literal["classification", "regression"] = "classification"
    hidden: int = 64
    state: int = 64
    blocks: int = 4
    dropout: float = 0.1
    norm: Literal["batch", "layer"] = "batch"

    def __post_init__(self) -> None:
        _check_int(self, "in_channels", minimum=1)
        _check_int(self, "out_dim", minimum=1)
        _check_choice(self, "head", HEADS)
        _check_int(self, "hidden", minimum=1)
        _check_int(self, "state", minimum=self._min_state())
        _check_int(self, "blocks", minimum=1)
        _check_float(self, "dropout", low=0.0, high=1.0, closed_high=False)
        _check_choice(self, "norm", NORMS)
        if hasattr(self, "scan"):
            _check_choice(self, "scan", SCANS)

    def _min_state(self) -> int:
        return 1

    def replace(self, **fields: object) -> "ModelConfig":
        """A copy with some fields changed (validated again)."""
        return construct(type(self), {**dataclasses.asdict(self), **fields})


@typing.no_type_check
@dataclasses.dataclass(frozen=True, kw_only=True)
class LinOSSConfig(ModelConfig):
    """LinOSS (Rusch & Rus, ICLR 2025): `discretization` is "IM" (implicit) or "IMEX"."""

    name: ClassVar[str] = "linoss"
    discretization: Literal["IM", "IMEX"] = "IM"
    scan: Literal["auto", "parallel", "sequential"] = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self, "discretization", ("IM", "IMEX"))


@typing.no_type_check
@dataclasses.dataclass(frozen=True, kw_only=True)
class DLinOSSConfig(ModelConfig):
    """D-LinOSS (Boyer, Rusch & Rus 2025): eigenvalues initialised on the ring
    r in [r_min, r_max], phase theta in [theta_min, theta_max] (0 < r <= 1, 0 <= theta <= pi)."""

    name: ClassVar[str] = "d-linoss"
    r_min: float = 0.9
    r_max: float = 1.0
    theta_min: float = 0.0
    theta_max: float = math.pi
    scan: Literal["auto", "parallel", "sequential"] = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self, "r_min", "r_max", lo=0.0, hi=1.0, positive=True)
        _check_range(self, "theta_min", "theta_max", lo=0.0, hi=math.pi, positive=False)


@typing.no_type_check
@dataclasses.dataclass(frozen=True, kw_only=True)
class LRUConfig(ModelConfig):
    """LRU (Orvieto et al. 2023): ring init |lambda| in [r_min, r_max], phase in [0, max_phase]."""

    name: ClassVar[str] = "lru"
    r_min: float = 0.9
    r_max: float = 0.999
    max_phase: float = 2 * math.pi
    scan: Literal["auto", "parallel", "sequential"] = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self, "r_min", "r_max", lo=0.0, hi=1.0, positive=False)
        if self.r_max >= 1.0:
            raise ConfigError(f"lru: r_max must be < 1 (|lambda| < 1), got {self.r_max!r}")
        _check_float(self, "max_phase", low=0.0, high=2 * math.pi, closed_high=True)
        if self.max_phase <= 0:
            raise ConfigError(f"lru: max_phase must be in (0, 2*pi], got {self.max_phase!r}")


@typing.no_type_check
@dataclasses.dataclass(frozen=True, kw_only=True)
class S4Config(ModelConfig):
    """S4 (Gu, Goel & Re 2021): step Delta log-uniform in [dt_min, dt_max]; `state // 2`
    complex modes per channel (conjugate pairs implied), so `state` must be >= 2. `init`
    "legs" is HiPPO-LegS as the official NPLR set-up builds it (Im(B~) clipped at 2,
    state-spaces/s4 hippo.py); "legs-exact" keeps the exact HiPPO-LegS matrix."""

    name: ClassVar[str] = "s4"
    norm: Literal["batch", "layer"] = "layer"
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    init: Literal["legs", "legs-exact"] = "legs"

    def _min_state(self) -> int:
        return 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self, "dt_min", "dt_max", lo=0.0, hi=math.inf, positive=True)
        _check_choice(self, "init", ("legs", "legs-exact"))


@typing.no_type_check
@dataclasses.dataclass(frozen=True, kw_only=True)
class S4DConfig(ModelConfig):
    """S4D (Gu, Gupta, Goel & Re 2022): `init` "inv" (S4D-Inv) or "lin" (S4D-Lin); the state
    holds state // 2 complex modes (conjugate pairs implied), so `state` must be >= 2."""

    name: ClassVar[str] = "s4d"
    norm: Literal["batch", "layer"] = "layer"
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    init: Literal["inv", "lin"] = "inv"

    def _min_state(self) -> int:
        return 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self, "dt_min", "dt_max", lo=0.0, hi=math.inf, positive=True)
        _check_choice(self, "init", ("inv", "lin"))


@typing.no_type_check
@dataclasses.dataclass(frozen=True, kw_only=True)
class HOPEConfig(ModelConfig):
    """HOPE (Yu, Mahoney & Erichson 2024): `state // 2` complex Markov (Hankel) coefficients per
    channel; the Moebius parameter Delta of the sampling points is drawn log-uniform in
    [dt_min, dt_max] per channel. The default [1e-3, 1] follows the HOPE paper's range
    (Delta = 1 samples the roots of unity, i.e. a length-state/2 FIR kernel; smaller Delta
    stretches the kernel towards long memory). `state` must be >= 2.

    `train_dt` (default False) trains Delta; the official training scripts freeze it
    (AnnanYu/HOPE-SSM run_cifar.py, `--lr_dt` default 0.0)."""

    name: ClassVar[str] = "hope"
    norm: Literal["batch", "layer"] = "layer"
    dt_min: float = 1e-3
    dt_max: float = 1.0
    train_dt: bool = False

    def _min_state(self) -> int:
        return 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self, "dt_min", "dt_max", lo=0.0, hi=math.inf, positive=True)
        _check_bool(self, "train_dt")
