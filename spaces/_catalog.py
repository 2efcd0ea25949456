"""The catalog: the published grids of every model, their union and continuous counterparts.

Each entry is a function returning a `Space`; its docstring (shown by `ssmtune spaces show`)
cites where the values come from (the paper or the official repository). `names()` lists them in
catalog order; `get(name)` builds one (names are case-insensitive), and `get(path)` loads a
TOML file (`spaces._toml`).

Grids of the LinOSS benchmark (LinOSS, D-LinOSS, LRU): lr x blocks x hidden x state x
include_time = 3 x 3 x 3 x 3 x 2 = 162 points per model or discretization.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ssmtune.spaces._errors import SpaceError
from ssmtune.spaces._params import Categorical, Constant, FloatRange, IntRange, Parameter
from ssmtune.spaces._space import Space

__all__ = ["names", "get", "register"]

_CATALOG: dict[str, Callable[[], Space]] = {}


def register(name: str) -> Callable[[Callable[[], Space]], Callable[[], Space]]:
    """Add a space factory to the catalog under `name` (its docstring is the description)."""

    def wrap(factory: Callable[[], Space]) -> Callable[[], Space]:
        _CATALOG[name] = factory
        return factory

    return wrap


def names() -> list[str]:
    """The catalog's space names, in catalog order."""
    return list(_CATALOG)


def get(name_or_path: str | Path) -> Space:
    """A catalog space by name (case-insensitive), or a user space from a `.toml` path.

    Raises:
        SpaceError: unknown name (the message lists the catalog), or an invalid TOML space.
    """
    text = str(name_or_path)
    key = text.lower()
    if key in _CATALOG:
        return _CATALOG[key]()
    if text.endswith(".toml") or Path(text).is_file():
        from ssmtune.spaces._toml import load

        return load(text)
    raise SpaceError(
        f"unknown space {text!r}; known spaces: {', '.join(_CATALOG)} (or a path to a .toml file)"
    )


def _doc(factory: Callable[[], Space]) -> str:
    return " ".join((factory.__doc__ or "").split())


# ------------------------------------------------------------------- shared value sets
#: LinOSS App. B.1 (Rusch & Rus, ICLR 2025) / Walker et al. grid values
#: (Benjamin-Walker/log-neural-cdes, results/hyperparam_info_for_table.json).
LR = (1e-5, 1e-4, 1e-3)
BLOCKS = (2, 4, 6)
HIDDEN = (16, 64, 128)
STATE = (16, 64, 256)
TIME = (True, False)


def _when(when: dict | None) -> dict[str, Any]:
    """The keyword that qualifies a parameter for one branch of `auto` (none: unconditional);
    `Parameter` normalises the mapping into its condition."""
    return {"when": when or ()}


def _benchmark_grid(prefix: str = "", when: dict | None = None) -> list[Parameter]:
    """lr x blocks x hidden x state x include_time of the LinOSS benchmark (162 points)."""
    kw = _when(when)
    return [
        Categorical(prefix + "lr", LR, **kw),
        Categorical(prefix + "blocks", BLOCKS, **kw),
        Categorical(prefix + "hidden", HIDDEN, **kw),
        Categorical(prefix + "state", STATE, **kw),
        Categorical(prefix + "include_time", TIME, **kw),
    ]


def _benchmark_continuous(prefix: str = "", when: dict | None = None) -> list[Parameter]:
    """The continuous counterpart: lr log-uniform [1e-5, 1e-2]; sizes over the grid's ranges."""
    kw = _when(when)
    return [
        FloatRange(prefix + "lr", 1e-5, 1e-2, log=True, **kw),
        IntRange(prefix + "blocks", min(BLOCKS), max(BLOCKS), **kw),
        IntRange(prefix + "hidden", min(HIDDEN), max(HIDDEN), log=True, **kw),
        IntRange(prefix + "state", min(STATE), max(STATE), log=True, **kw),
        Categorical(prefix + "include_time", TIME, **kw),
    ]


# ------------------------------------------------------------------- per-model parameter lists
# Each returns the parameters of one model's grid; `prefix`/`when` qualify them for `auto`.


def _linoss(
    p: str = "", w: dict | None = None, *, discretizations=("IM", "IMEX")
) -> list[Parameter]:
    disc: Parameter = (
        Categorical(p + "discretization", discretizations, **_when(w))
        if len(discretizations) > 1
        else Constant(p + "discretization", discretizations[0], **_when(w))
    )
    return [disc, *_benchmark_grid(p, w)]


def _s4_common(p: str, w: dict | None) -> list[Parameter]:
    kw = _when(w)
    return [
        Constant(p + "optimizer", "adamw", **kw),
        Constant(p + "schedule", "cosine", **kw),
        Constant(p + "weight_decay", 0.05, **kw),
        Constant(p + "ssm_lr", 1e-3, **kw),
        Constant(p + "blocks", 6, **kw),
        Categorical(p + "lr", (1e-3, 4e-3, 1e-2), **kw),
        Categorical(p + "hidden", (128, 256, 512), **kw),
        Categorical(p + "state", (4, 16, 64), **kw),
        Categorical(p + "dropout", (0.0, 0.1), **kw),
        Categorical(p + "dt_min", (1e-4, 1e-3), **kw),
        Constant(p + "dt_max", 0.1, **kw),
    ]


def _s4(p: str = "", w: dict | None = None) -> list[Parameter]:
    return _s4_common(p, w)


def _s4d(p: str = "", w: dict | None = None) -> list[Parameter]:
    return [*_s4_common(p, w), Categorical(p + "init", ("inv", "lin"), **_when(w))]


def _hope(p: str = "", w: dict | None = None) -> list[Parameter]:
    kw = _when(w)
    return [
        Constant(p + "optimizer", "adamw", **kw),
        Constant(p + "schedule", "cosine", **kw),
        Constant(p + "weight_decay", 0.05, **kw),
        Constant(p + "hidden", 128, **kw),
        Constant(p + "state", 64, **kw),
        Constant(p + "dt_min", 1e-3, **kw),
        Categorical(p + "blocks", (6, 8), **kw),
        Categorical(p + "lr", (1e-3, 2e-3, 4e-3), **kw),
        Categorical(p + "ssm_lr", (5e-4, 1e-3), **kw),
        Categorical(p + "dt_max", (1.0, 10.0), **kw),
        Categorical(p + "dropout", (0.0, 0.1), **kw),
    ]


def _linoss_cont(p: str = "", w: dict | None = None) -> list[Parameter]:
    return [
        Categorical(p + "discretization", ("IM", "IMEX"), **_when(w)),
        *_benchmark_continuous(p, w),
    ]


def _dlinoss_cont(p: str = "", w: dict | None = None) -> list[Parameter]:
    kw = _when(w)
    return [
        *_benchmark_continuous(p, w),
        FloatRange(p + "r_min", 0.01, 0.9, **kw),
        FloatRange(p + "r_max", 0.9, 1.0, **kw),
        FloatRange(p + "theta_min", 0.0, math.pi / 4, **kw),
        FloatRange(p + "theta_max", math.pi / 4, math.pi, **kw),
    ]


def _lru_cont(p: str = "", w: dict | None = None) -> list[Parameter]:
    kw = _when(w)
    return [
        *_benchmark_continuous(p, w),
        FloatRange(p + "r_min", 0.0, 0.9, **kw),
        FloatRange(p + "r_max", 0.9, 0.999, **kw),
        FloatRange(p + "max_phase", math.pi / 10, 2 * math.pi, log=True, **kw),
    ]


def _s4_cont_common(p: str, w: dict | None) -> list[Parameter]:
    kw = _when(w)
    return [
        Constant(p + "optimizer", "adamw", **kw),
        Constant(p + "schedule", "cosine", **kw),
        FloatRange(p + "weight_decay", 0.0, 0.1, **kw),
        FloatRange(p + "lr", 1e-4, 1e-2, log=True, **kw),
        FloatRange(p + "ssm_lr", 1e-4, 1e-2, log=True, **kw),
        IntRange(p + "blocks", 2, 8, **kw),
        IntRange(p + "hidden", 64, 512, log=True, **kw),
        IntRange(p + "state", 4, 256, log=True, **kw),
        FloatRange(p + "dropout", 0.0, 0.2, **kw),
        FloatRange(p + "dt_min", 1e-4, 1e-3, log=True, **kw),
        Constant(p + "dt_max", 0.1, **kw),
    ]


def _s4_cont(p: str = "", w: dict | None = None) -> list[Parameter]:
    return _s4_cont_common(p, w)


def _s4d_cont(p: str = "", w: dict | None = None) -> list[Parameter]:
    return [*_s4_cont_common(p, w), Categorical(p + "init", ("inv", "lin"), **_when(w))]


def _hope_cont(p: str = "", w: dict | None = None) -> list[Parameter]:
    kw = _when(w)
    return [
        Constant(p + "optimizer", "adamw", **kw),
        Constant(p + "schedule", "cosine", **kw),
        FloatRange(p + "weight_decay", 0.0, 0.1, **kw),
        FloatRange(p + "lr", 5e-4, 8e-3, log=True, **kw),
        FloatRange(p + "ssm_lr", 1e-4, 2e-3, log=True, **kw),
        IntRange(p + "blocks", 4, 8, **kw),
        IntRange(p + "hidden", 64, 256, log=True, **kw),
        IntRange(p + "state", 16, 128, log=True, **kw),
        FloatRange(p + "dropout", 0.0, 0.2, **kw),
        Constant(p + "dt_min", 1e-3, **kw),
        FloatRange(p + "dt_max", 1.0, 10.0, log=True, **kw),
    ]


def _union(name: str, branches: dict[str, Callable[..., list[Parameter]]], doc: str) -> Space:
    params: list[Parameter] = [Categorical("model", tuple(branches))]
    for model, make in branches.items():
        params += make(f"{model}.", {"model": (model,)})
    return Space(name, None, tuple(params), doc)


_GRIDS: dict[str, Callable[..., list[Parameter]]] = {
    "linoss": _linoss,
    "d-linoss": _benchmark_grid,
    "lru": _benchmark_grid,
    "s4": _s4,
    "s4d": _s4d,
    "hope": _hope,
}
_CONTINUOUS: dict[str, Callable[..., list[Parameter]]] = {
    "linoss": _linoss_cont,
    "d-linoss": _dlinoss_cont,
    "lru": _lru_cont,
    "s4": _s4_cont,
    "s4d": _s4d_cont,
    "hope": _hope_cont,
}


# ------------------------------------------------------------------- the catalog
@register("linoss-full")
def linoss_full() -> Space:
    """The full LinOSS grid: discretization {IM, IMEX} x lr {1e-5, 1e-4, 1e-3} x blocks
    {2, 4, 6} x hidden {16, 64, 128} x state {16, 64, 256} x include_time {true, false}
    = 324 points. Source: Rusch & Rus, "Oscillatory State-Space Models", ICLR 2025, App. B.1
    (searched separately per discretization, 162 points each)."""
    return Space("linoss-full", "linoss", tuple(_linoss()), _doc(linoss_full))


@register("d-linoss-reduced")
def d_linoss_reduced() -> Space:
    """The D-LinOSS grid: the LinOSS grid without the discretization (D-LinOSS has one):
    lr x blocks x hidden x state x include_time = 162 points, the paper's "50% smaller
    search space". Source: Boyer, Rusch & Rus, "Learning to Dissipate Energy in Oscillatory
    State-Space Models", 2025; values from LinOSS App. B.1."""
    return Space("d-linoss-reduced", "d-linoss", tuple(_benchmark_grid()), _doc(d_linoss_reduced))


@register("linoss-im")
def linoss_im() -> Space:
    """LinOSS-IM alone: the LinOSS grid with discretization fixed to IM, 162 points.
    Source: Rusch & Rus, ICLR 2025, App. B.1."""
    return Space("linoss-im", "linoss", tuple(_linoss(discretizations=("IM",))), _doc(linoss_im))


@register("linoss-imex")
def linoss_imex() -> Space:
    """LinOSS-IMEX alone: the LinOSS grid with discretization fixed to IMEX, 162 points.
    Source: Rusch & Rus, ICLR 2025, App. B.1."""
    return Space(
        "linoss-imex", "linoss", tuple(_linoss(discretizations=("IMEX",))), _doc(linoss_imex)
    )


@register("lru")
def lru() -> Space:
    """The LRU grid of the LinOSS benchmark: lr {1e-5, 1e-4, 1e-3} x blocks {2, 4, 6} x
    hidden {16, 64, 128} x state {16, 64, 256} x include_time = 162 points (ring r_min/r_max
    and max_phase at the model's defaults). Source: Walker et al., Log-NCDE,
    Benjamin-Walker/log-neural-cdes, results/hyperparam_info_for_table.json."""
    return Space("lru", "lru", tuple(_benchmark_grid()), _doc(lru))


@register("s4")
def s4() -> Space:
    """S4 from its published LRA configurations: 6 layers, AdamW with weight decay 0.05 and
    a cosine schedule, SSM parameters at lr 0.001 without weight decay (`ssm_lr`); searched:
    lr {1e-3, 4e-3, 1e-2} x d_model=hidden {128, 256, 512} x d_state=state {4, 16, 64} x
    dropout {0, 0.1} x dt_min {1e-4, 1e-3} (dt_max 0.1) = 108 points. Source: Gu, Goel & Re,
    "Efficiently Modeling Long Sequences with Structured State Spaces", ICLR 2022;
    state-spaces/s4 configs/experiment/lra/*.yaml. Warmup is left to the study's protocol."""
    return Space("s4", "s4", tuple(_s4()), _doc(s4))


@register("s4d")
def s4d() -> Space:
    """S4D: the S4 grid (same LRA configurations) x init {inv, lin} (S4D-Inv, S4D-Lin)
    = 216 points. Source: Gu, Gupta, Goel & Re, "On the Parameterization and Initialization
    of Diagonal State Space Models", NeurIPS 2022; state-spaces/s4 configs/experiment/lra."""
    return Space("s4d", "s4d", tuple(_s4d()), _doc(s4d))


@register("hope")
def hope() -> Space:
    """HOPE from its published configurations: d_model=hidden 128, d_state=state 64, AdamW
    (weight decay 0.05, cosine schedule), Delta in [1e-3, dt_max]; searched: layers=blocks
    {6, 8} x lr {1e-3, 2e-3, 4e-3} x Hankel-coefficient lr=ssm_lr {5e-4, 1e-3} x dt_max
    {1, 10} x dropout {0, 0.1} = 48 points. Source: Yu, Mahoney & Erichson, "There is HOPE
    to Avoid HiPPOs for Long-memory State Space Models", 2024; AnnanYu/HOPE-SSM
    configs/experiment/lra."""
    return Space("hope", "hope", tuple(_hope()), _doc(hope))


@register("auto")
def auto() -> Space:
    """Every model's published grid as one conditional space: first `model` {linoss,
    d-linoss, lru, s4, s4d, hope}, then that model's grid (parameters named `<model>.<field>`)
    = 324 + 162 + 162 + 108 + 216 + 48 = 1,020 points. Sources: those of linoss-full,
    d-linoss-reduced, lru, s4, s4d and hope."""
    return _union("auto", _GRIDS, _doc(auto))


@register("auto-continuous")
def auto_continuous() -> Space:
    """The continuous counterpart of `auto` for TPE/GP: `model`, then that model's
    continuous space (linoss-continuous, d-linoss-continuous, lru-continuous,
    s4-continuous, s4d-continuous, hope-continuous), parameters named `<model>.<field>`."""
    return _union("auto-continuous", _CONTINUOUS, _doc(auto_continuous))


@register("linoss-continuous")
def linoss_continuous() -> Space:
    """LinOSS for model-based samplers: discretization {IM, IMEX}, lr log-uniform
    [1e-5, 1e-2], blocks int [2, 6], hidden int log [16, 128], state int log [16, 256],
    include_time {true, false}: the ranges of the LinOSS grid (Rusch & Rus, ICLR 2025,
    App. B.1) with the learning rate widened to 1e-2."""
    return Space("linoss-continuous", "linoss", tuple(_linoss_cont()), _doc(linoss_continuous))


@register("d-linoss-continuous")
def d_linoss_continuous() -> Space:
    """D-LinOSS for model-based samplers: the ranges of linoss-continuous (no
    discretization) plus the eigenvalue ring of the initialisation: r_min [0.01, 0.9],
    r_max [0.9, 1], theta_min [0, pi/4], theta_max [pi/4, pi] (ranges disjoint, so every
    point is a valid ring). Source: Boyer, Rusch & Rus 2025 (ring initialisation, r in
    (0, 1], theta in [0, pi])."""
    return Space(
        "d-linoss-continuous", "d-linoss", tuple(_dlinoss_cont()), _doc(d_linoss_continuous)
    )


@register("lru-continuous")
def lru_continuous() -> Space:
    """LRU for model-based samplers: the benchmark ranges (as linoss-continuous) plus the
    ring r_min [0, 0.9], r_max [0.9, 0.999], max_phase log [pi/10, 2 pi]. Source: Orvieto et
    al., "Resurrecting Recurrent Neural Networks for Long Sequences", ICML 2023, App. D."""
    return Space("lru-continuous", "lru", tuple(_lru_cont()), _doc(lru_continuous))


@register("s4-continuous")
def s4_continuous() -> Space:
    """S4 for model-based samplers over the ranges of its LRA configurations: lr and ssm_lr
    log [1e-4, 1e-2], weight decay [0, 0.1], blocks [2, 8], hidden log [64, 512], state log
    [4, 256], dropout [0, 0.2], dt_min log [1e-4, 1e-3] (dt_max 0.1). Source: state-spaces/s4
    configs/experiment/lra/*.yaml."""
    return Space("s4-continuous", "s4", tuple(_s4_cont()), _doc(s4_continuous))


@register("s4d-continuous")
def s4d_continuous() -> Space:
    """S4D for model-based samplers: the s4-continuous ranges plus init {inv, lin}.
    Source: Gu et al. 2022; state-spaces/s4 configs/experiment/lra."""
    return Space("s4d-continuous", "s4d", tuple(_s4d_cont()), _doc(s4d_continuous))


@register("hope-continuous")
def hope_continuous() -> Space:
    """HOPE for model-based samplers: lr log [5e-4, 8e-3], ssm_lr log [1e-4, 2e-3], weight
    decay [0, 0.1], blocks [4, 8], hidden log [64, 256], state log [16, 128], dropout
    [0, 0.2], dt_max log [1, 10] (dt_min 1e-3). Source: Yu et al. 2024; AnnanYu/HOPE-SSM."""
    return Space("hope-continuous", "hope", tuple(_hope_cont()), _doc(hope_continuous))
