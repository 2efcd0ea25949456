"""The checks every task's splits pass (`tasks.load` with the time channel)."""

from __future__ import annotations

import numpy as np


def check_splits(info, parts) -> None:  # noqa: ANN001 - TaskInfo, (Split, Split, Split)
    """Dtypes, shapes, masks and targets of the train/val/test `parts` of a task `info`,
    loaded with ``include_time=True``."""
    assert sum(p.n for p in parts) == info.cases
    for p in parts:
        assert p.x.dtype == np.float32 and p.mask.dtype == np.bool_
        assert p.x.shape == (p.n, info.length, info.channels + 1)  # + time channel
        assert p.mask.shape == (p.n, info.length)
        assert np.isfinite(p.x).all()
        if info.kind == "classification":
            assert p.y.dtype == np.int32 and p.y.shape == (p.n,)
            assert p.y.min() >= 0 and p.y.max() < info.classes
            assert p.target_mask is None
        else:
            assert p.y.dtype == np.float32 and p.y.shape == (p.n, info.length, info.classes)
            assert p.target_mask.shape == (p.n, info.length) and p.target_mask.any()
            assert not (p.target_mask & ~p.mask).any()
