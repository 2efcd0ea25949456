"""The registry contract: every task, through the same checks."""

from __future__ import annotations

import pytest

from ssmtune import tasks
from ssmtune.tasks import TaskError
from tests.tasks._contract import check_splits

#: shorter lengths for the synthetic tasks in the contract test (their defaults are 1,000+)
_SHORT = {"tone-freq": 64, "recall": 64, "running-mean": 64, "delay": 64, "digits-noise": 80}


def _offline(name: str) -> bool:
    return tasks.info(name).available != "missing"


@pytest.mark.parametrize("name", tasks.names())
def test_info_fields(name: str, data_dir) -> None:
    info = tasks.info(name)
    assert info.kind in ("classification", "regression")
    assert info.metric == ("accuracy" if info.kind == "classification" else "mse")
    assert info.available in ("embedded", "downloaded", "missing")
    assert info.source in ("embedded", "uea", "synthetic", "ppg")
    assert info.channels > 0 and info.classes > 0 and info.length > 0
    assert info.name.split("@")[0] == name
    assert tasks.info(name.upper()) == info  # case-insensitive


@pytest.mark.parametrize("name", [n for n in tasks.names()])
def test_load_contract(name: str, data_dir) -> None:
    if not _offline(name):
        with pytest.raises(TaskError, match="ssmtune data"):
            tasks.load(name, seed=0)
        return
    key = f"{name}@{_SHORT[name]}" if name in _SHORT else name
    data = tasks.load(key, seed=3, include_time=True)
    info = data.info
    parts = (data.train, data.val, data.test)
    check_splits(info, parts)
    assert [p.n for p in parts] == list(
        tasks.random_split(info.cases, seed=3)[i].size for i in range(3)
    )


def test_names_case_insensitive_and_lengths(data_dir) -> None:
    assert tasks.info("BasicMotions").name == "basicmotions"
    assert tasks.info("Tone-Freq@2_000").length == 2000
    assert tasks.info("tone-freq").length == 1000
    assert tasks.info("recall@50000").length == 50_000


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("nosuchtask", r"unknown task 'nosuchtask'; known tasks: basicmotions, .*tone-freq"),
        ("", "unknown task"),
        ("tone-freq@abc", "LENGTH must be a whole number"),
        ("tone-freq@3", "tone-freq takes 16 to 1,000,000 steps"),
        ("tone-freq@99999999", "takes 16 to"),
        ("basicmotions@100", "fixed length"),
        ("nosuch@100", "unknown task"),
        ("uea:../etc", "bad UEA dataset name"),
    ],
)
def test_bad_names(name: str, pattern: str, data_dir) -> None:
    with pytest.raises(TaskError, match=pattern) as err:
        tasks.info(name)
    assert "\n" not in str(err.value)


def test_missing_data_gives_download_command(data_dir) -> None:
    with pytest.raises(TaskError, match=r"ssmtune data download uea --datasets EigenWorms`"):
        tasks.load("eigenworms", seed=0)
    with pytest.raises(TaskError, match=r"--datasets Nope --data-dir"):
        tasks.load("uea:Nope", seed=0, data_dir=data_dir / "elsewhere")
    assert tasks.info("eigenworms").available == "missing"


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
def test_bad_seed(seed, data_dir) -> None:
    with pytest.raises(TaskError, match="seed must be"):
        tasks.load("basicmotions", seed=seed)
