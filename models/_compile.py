"""The compile cache: every compiled program of a run comes from `compiled`, which compiles it
once per model structure and argument shapes and process (thread-safe), and JAX's persistent
compilation cache, switched on at first use, keeps the executables across processes.

Moved from `models/_train.py` unchanged; the design (why the optimiser scalars are traced, why
a run's steps between two evaluations are one `lax.scan`) is in that module's docstring.
"""

import collections
import os
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["compiled", "compilation_cache_dir", "enable_persistent_cache", "TRACES", "LOCK"]

#: How many times each compiled function was traced in this process (a Python side effect
#: that runs at trace time only): the tests read it to check that configs differing only in
#: optimiser scalars share one executable.
TRACES: collections.Counter[str] = collections.Counter()

#: Compiled executables by (function, static model structure, argument shapes), least recently
#: used last; at most `_MAX_COMPILED` are kept.
_COMPILED: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()
_MAX_COMPILED = 32
#: Keys being compiled right now, each with the event set once its compilation ended.
_PENDING: dict[Hashable, threading.Event] = {}
#: Guards the caches of this module and `models._initialise`'s record of static halves.
LOCK = threading.Lock()
#: Below this, the time `compiled` spent on a cache hit is lock overhead, reported as 0.
_WAIT_NOISE_S = 1e-3

_PERSISTENT_CACHE_SET = False


def compilation_cache_dir() -> Path:
    """Where JAX's persistent compilation cache lives: ``$SSMTUNE_CACHE`` or
    ``~/.cache/ssmtune/jax``."""
    env = os.environ.get("SSMTUNE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ssmtune" / "jax"


def enable_persistent_cache() -> None:
    """Switch JAX's persistent compilation cache on at first use, unless the user chose a
    folder (``JAX_COMPILATION_CACHE_DIR`` or `jax.config`); a folder that cannot be created
    leaves the cache off (never an error)."""
    global _PERSISTENT_CACHE_SET
    if _PERSISTENT_CACHE_SET:
        return
    _PERSISTENT_CACHE_SET = True
    if jax.config.jax_compilation_cache_dir:  # type: ignore[attr-defined]  # set at run time
        return
    path = compilation_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", str(path))


def _signature(args: Sequence[Any]) -> Hashable:
    leaves, treedef = jax.tree_util.tree_flatten(args)
    return treedef, tuple((tuple(np.shape(x)), str(jnp.result_type(x))) for x in leaves)


def compiled(
    name: str,
    structure: Hashable,
    make: Callable[[], Callable[..., Any]],
    args: Sequence[Any],
    compiler_options: dict[str, Any] | None = None,
) -> tuple[Callable[..., Any], float]:
    """The executable of `make()` for these arguments, and the seconds spent getting it: 0.0
    from the in-process cache, else compiling it or waiting for another thread that is
    compiling it (`models.precompile`). `compiler_options` go to XLA.

    Thread-safe: of several threads asking for one key, one compiles and the others wait.
    """
    key: tuple[str, Hashable, Hashable] | None = (name, structure, _signature(args))
    try:
        hash(key)
    except TypeError:  # an unhashable static leaf: compile without caching
        key = None
    start = time.perf_counter()
    while key is not None:
        with LOCK:
            if key in _COMPILED:
                _COMPILED.move_to_end(key)
                waited = time.perf_counter() - start
                return _COMPILED[key], (waited if waited > _WAIT_NOISE_S else 0.0)
            pending = _PENDING.get(key)
            if pending is None:
                _PENDING[key] = threading.Event()
                break
        pending.wait()  # another thread compiles it; if that failed, this one tries
    try:
        # No buffer donation: SSM parameters and optimiser states are small next to
        # activations, and a donated buffer that is read again (params by the evaluation)
        # would be an error.
        executable = jax.jit(make()).lower(*args).compile(compiler_options)
        if key is not None:
            with LOCK:
                _COMPILED[key] = executable
                while len(_COMPILED) > _MAX_COMPILED:
                    _COMPILED.popitem(last=False)
    finally:
        if key is not None:
            with LOCK:
                _PENDING.pop(key).set()
    return executable, time.perf_counter() - start
