"""PPG-DaLiA on small per-subject pickles of the original format, made here."""

from __future__ import annotations

import builtins
import codecs
import os
import pickle
import pickletools
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ssmtune import tasks
from ssmtune.tasks import TaskError
from ssmtune.tasks._ppg import prepare_ppg

ROOT = Path(__file__).resolve().parents[2]


def _subject_data(n_labels: int, name: str, offset: float = 0.0) -> dict:
    """A subject with `n_labels` 2 s periods, with the keys of PPG-DaLiA's files: BVP counts
    time steps (64 Hz), so a window's values tell where it came from; the heart rate rises
    linearly."""
    steps = n_labels * 128
    return {
        "rpeaks": np.arange(0, steps * 11, 600, dtype=np.int32),
        "signal": {
            "wrist": {
                "ACC": np.stack([np.arange(steps // 2)] * 3, axis=1) * 1.0 + offset,
                "BVP": np.arange(steps, dtype=np.float64)[:, None] + offset,
                "EDA": np.arange(steps // 16, dtype=np.float64)[:, None],
                "TEMP": np.full((steps // 16, 1), 33.0),
            },
            "chest": {"ECG": np.zeros((8, 1)), "Resp": np.zeros((0, 1))},
        },
        "label": 60.0 + np.arange(n_labels - 3, dtype=np.float64),
        "activity": np.zeros((steps // 16, 1), np.float32),
        "questionnaire": {"AGE": np.int64(30), "WEIGHT": 70.5, "Gender": " m", "SKIN": 3},
        "subject": name,
    }


def _subject(path: Path, n_labels: int, offset: float = 0.0, protocol: int = 5) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(_subject_data(n_labels, path.stem, offset), f, protocol=protocol)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "ppg_download"
    for i, n in ((1, 200), (2, 240)):
        _subject(root / "PPG_FieldStudy" / f"S{i}" / f"S{i}.pkl", n, offset=i)
    return root


def test_small_windows(source, data_dir) -> None:
    prepare_ppg(source, window=1280, stride=256)  # 10 labels per window, stride 2 labels
    data = tasks.load("ppg-dalia", seed=2345)
    assert data.info.kind == "regression" and data.info.metric == "mse"
    assert data.info.length == 1280 and data.info.channels == 6
    for split in (data.train, data.val, data.test):
        assert split.x.shape[1:] == (1280, 6) and split.y.shape[1:] == (1280, 1)
        assert split.x.min() >= -1 and split.x.max() <= 1
        at = np.flatnonzero(split.target_mask[0])
        assert at.tolist() == list(range(127, 1280, 128))
        assert (split.target_mask == split.target_mask[0]).all() and split.mask.all()
        assert (split.y[~split.target_mask] == 0).all()
        assert split.y[split.target_mask].min() >= -1 and split.y[split.target_mask].max() <= 1
    # windows per subject: train 70 % of the labels, val/test 15 %, stride 2 labels
    per = lambda k: (k - 10) // 2 + 1  # noqa: E731
    assert data.train.n == per(140) + per(168)
    assert data.val.n == per(30) + per(36) and data.test.n == per(30) + per(36)
    assert data.info.cases == data.train.n + data.val.n + data.test.n


def _spans(split) -> list[tuple[float, float]]:
    bvp = split.x[:, :, 3]  # time-ordered within a subject
    return [(float(b[0]), float(b[-1])) for b in bvp]


def test_contiguous_seeded_split(source, data_dir) -> None:
    prepare_ppg(source, window=1280, stride=256)
    a = tasks.load("ppg-dalia", seed=1)
    b = tasks.load("ppg-dalia", seed=1)
    np.testing.assert_array_equal(a.train.x, b.train.x)
    layouts = {tuple(_spans(tasks.load("ppg-dalia", seed=s).test)[0]) for s in range(8)}
    assert len(layouts) > 1  # the seed picks the order of the blocks


def test_block_disjoint_per_subject(source, data_dir) -> None:
    prepare_ppg(source / "PPG_FieldStudy" / "S1", window=1280, stride=128)  # S1.pkl alone
    for seed in range(6):
        data = tasks.load("ppg-dalia", seed=seed)
        spans = [_spans(p) for p in (data.train, data.val, data.test)]
        lo_hi = [(min(s[0] for s in sp), max(s[1] for s in sp)) for sp in spans]
        lo_hi.sort()
        assert lo_hi[0][1] < lo_hi[1][0] and lo_hi[1][1] < lo_hi[2][0]  # disjoint in time


def test_paper_window_size(tmp_path, data_dir) -> None:
    """The paper's windows (49,920 steps, stride 4,992) on one subject of 2,700 labels (1.5 h)."""
    _subject(tmp_path / "src" / "S3.pkl", 2700)
    prepare_ppg(tmp_path / "src")
    data = tasks.load("ppg-dalia", seed=0)
    assert data.info.length == 49_920
    assert data.train.x.shape[1:] == (49_920, 6) and data.train.target_mask[0].sum() == 390
    assert data.train.n == (1890 - 390) // 39 + 1
    assert data.val.n == 1 and data.test.n == 1


def test_pickles_only_from_named_folder(source, data_dir) -> None:
    """Pickles lying in the data dir are never read implicitly."""
    _subject(data_dir / "PPG_FieldStudy" / "S1" / "S1.pkl", 200)
    with pytest.raises(TaskError, match=r"ppg-dalia is not prepared .*ssmtune data ppg"):
        tasks.load("ppg-dalia", seed=0)
    assert tasks.info("ppg-dalia").available == "missing"


def test_ppg_bad_input(tmp_path, data_dir) -> None:
    with pytest.raises(TaskError, match="no PPG-DaLiA subject files"):
        prepare_ppg(tmp_path)
    bad = tmp_path / "bad" / "S1.pkl"
    bad.parent.mkdir()
    bad.write_bytes(b"\x80\x04garbage")
    with pytest.raises(TaskError, match=f"cannot read {bad}"):
        prepare_ppg(bad.parent)
    with open(bad, "wb") as f:
        pickle.dump({"signal": {}}, f)
    with pytest.raises(TaskError, match=f"cannot read {bad}.*expected PPG-DaLiA"):
        prepare_ppg(bad.parent)
    with pytest.raises(TaskError, match="multiple of 128"):
        prepare_ppg(bad.parent, window=1000)


def _as_python2(blob: bytes) -> bytes:
    """A protocol-3 pickle written again as Python 2 with numpy 1 writes it (the real files):
    protocol 2, bytes as Python 2 strings (read back as latin1 text), numpy's functions under
    ``numpy.core``."""
    ops = list(pickletools.genops(blob))
    out = bytearray()
    for (op, _, pos), (_, _, end) in zip(ops, [*ops[1:], (None, None, len(blob))], strict=True):
        raw = blob[pos:end]
        if op.name == "PROTO":
            raw = b"\x80\x02"
        elif op.name in ("SHORT_BINBYTES", "BINBYTES"):  # same layout as Python 2's strings
            raw = (b"U" if op.name == "SHORT_BINBYTES" else b"T") + raw[1:]
        elif op.name == "GLOBAL":
            raw = raw.replace(b"numpy._core.", b"numpy.core.")
        out += raw
    return bytes(out)


def _cache(data_dir: Path) -> dict[str, np.ndarray]:
    with np.load(data_dir / "cache" / "ppg-dalia.npz", allow_pickle=False) as f:
        return {k: f[k] for k in ("x", "labels", "label_offsets")}


def test_numpy_pickles_of_every_protocol_and_python2_load(tmp_path, data_dir) -> None:
    """Arrays, numpy numbers, empty arrays and bytes load through the restricted unpickler in
    every protocol, and as Python 2 with numpy 1 wrote the real files."""
    blob = pickle.dumps(_subject_data(40, "S1"), protocol=3)
    python2 = _as_python2(blob)
    names = {arg for op, arg, _ in pickletools.genops(python2) if op.name == "GLOBAL"}
    assert "numpy.core.multiarray _reconstruct" in names and "numpy.core.multiarray scalar" in names
    assert not any(op.name.endswith("BINBYTES") for op, _, _ in pickletools.genops(python2))
    files = {"python2": python2}
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        files[f"protocol {protocol}"] = pickle.dumps(
            {**_subject_data(40, "S1"), "raw": b"\x00\xff", "empty": b""}, protocol=protocol
        )
    caches = {}
    for what, content in files.items():
        src = tmp_path / what.replace(" ", "-") / "S1.pkl"
        src.parent.mkdir()
        src.write_bytes(content)
        prepare_ppg(src.parent, window=1280, stride=256)
        caches[what] = _cache(data_dir)
    expected = caches.pop("protocol 5")
    np.testing.assert_array_equal(
        expected["x"][:, 3], np.linspace(-1, 1, 40 * 128, dtype=np.float32)
    )
    for what, cache in caches.items():
        for key, value in expected.items():
            np.testing.assert_array_equal(cache[key], value, err_msg=what)


class _Call:
    """Pickles as a call of `func` with `args`: what a crafted file does."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple:
        return self.func, self.args


def _crafted(path: Path, payload: _Call, protocol: int = 5) -> None:
    """A subject file whose wrist ACC is `payload`, after arrays that are allowed."""
    data = _subject_data(40, path.stem)
    data["signal"]["wrist"]["ACC"] = payload
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=protocol)


def test_cli_refuses_a_pickle_that_runs_a_command(tmp_path, data_dir) -> None:
    """`ssmtune data ppg` on a pickle that would run a shell command: one line naming the
    global, exit code 2, and the command never ran."""
    ran = tmp_path / "the command ran"
    _crafted(tmp_path / "src" / "S1" / "S1.pkl", _Call(os.system, f"touch {shlex.quote(str(ran))}"))
    proc = subprocess.run(
        [sys.executable, "-m", "ssmtune.search.cli", "data", "ppg", str(tmp_path / "src")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "SSMTUNE_DATA": str(data_dir)},
        timeout=60,
    )
    assert not ran.exists()
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert f"refusing to load {tmp_path / 'src' / 'S1' / 'S1.pkl'}" in proc.stderr
    assert f"it references {os.system.__module__}.system" in proc.stderr  # posix.system on Linux
    assert "corrupt" not in proc.stderr
    assert not (data_dir / "cache" / "ppg-dalia.npz").exists()


@pytest.mark.parametrize("protocol", [0, 2, 5])
@pytest.mark.parametrize(
    ("payload", "refused"),
    [
        (_Call(builtins.eval, "print('ran')"), r"(builtins|__builtin__)\.eval"),
        (_Call(builtins.getattr, "text", "upper"), r"(builtins|__builtin__)\.getattr"),
        (_Call(builtins.open, "/dev/null"), r"(builtins|__builtin__|io)\.open"),
        (_Call(builtins.exec, "print('ran')"), r"(builtins|__builtin__)\.exec"),
        (_Call(Path, "/tmp"), r"pathlib\.Path"),
    ],
)
def test_globals_other_than_numpy_are_refused(
    tmp_path, data_dir, payload, refused, protocol
) -> None:
    path = tmp_path / "S1.pkl"
    _crafted(path, payload, protocol)
    with pytest.raises(TaskError, match=rf"^refusing to load {path}: it references {refused},"):
        prepare_ppg(tmp_path)


def test_allowed_functions_take_only_what_numpy_writes(tmp_path, data_dir) -> None:
    """`_codecs.encode` decodes latin1 only and `bytes` builds only b'': both are numpy's data,
    not a way to call something else."""
    path = tmp_path / "S1.pkl"
    for payload in (_Call(codecs.encode, "x", "rot13"), _Call(bytes, 10**6)):
        _crafted(path, payload, protocol=2)
        with pytest.raises(TaskError, match=f"cannot read {path}.*corrupt or truncated"):
            prepare_ppg(tmp_path)
