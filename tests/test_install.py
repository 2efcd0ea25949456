"""ssmtune installed from its wheel, used from a research project's folder (issue 23).

The folder holds a ``models.py``, a ``tasks/`` package and a ``search.py`` of its own, the
commonest names in machine-learning repositories. Ray's workers put the driver's working folder
first on ``sys.path``, so an ssmtune that imported its code by the bare names ``models``,
``tasks`` or ``search`` would get the user's files there (every trial failed with "module
'models' has no attribute 'names'"). Installed as one package, ``ssmtune``, nothing clashes.

The wheel is built from a copy of the sources (nothing from this checkout's build folders or
editable install reaches it) and installed with ``--no-deps`` into a new virtual environment.
Its dependencies (JAX, Ray, Optuna, ...) come from the test's own environment through a path
in a ``.pth`` file: a path line adds that folder to ``sys.path`` without running the ``.pth``
files in it, so the editable install's import hook never loads there, and the ``ssmtune`` the
new environment imports is the wheel's (checked). Installing the dependencies afresh from the
package index would test pip, not ssmtune's packaging, at minutes per run.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What the wheel is built from: the project file, the README and the packages' folders.
SOURCES = ("pyproject.toml", "README.md", "ssmtune", "models", "tasks", "spaces", "studies",
           "search", "benchmarks")  # fmt: skip


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300):  # noqa: ANN202
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:3]} exit {done.returncode}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A new virtual environment with ssmtune's wheel, and a user's folder with clashing names."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RAY_ADDRESS")}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    wheels = base / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(wheels), str(src)], base, env)  # fmt: skip
    (wheel,) = wheels.glob("ssmtune-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], base, env)
    python = venv / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, env
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (Path(purelib) / "ssmtune-test-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
         base, env)  # fmt: skip
    user = base / "project"
    (user / "tasks").mkdir(parents=True)
    (user / "models.py").write_text("class Net:\n    pass\n")
    (user / "tasks" / "__init__.py").write_text("TASKS = ['mine']\n")
    (user / "search.py").write_text("def search():\n    return 'the user's own'\n")
    return {"venv": venv, "python": python, "user": user, "purelib": Path(purelib), "env": env}  # type: ignore[dict-item]


def test_the_wheel_installs_one_top_level_package(installed: dict) -> None:
    done = _run([str(installed["python"]), "-m", "pip", "show", "-f", "ssmtune"],
                installed["user"], installed["env"])  # fmt: skip
    files = done.stdout.split("Files:", 1)[1].split()
    tops = {f.split("/")[0] for f in files if not f.startswith("..")}
    assert tops == {"ssmtune", "ssmtune-0.1.0.dist-info"}, tops
    assert {"ssmtune/models/__init__.py", "ssmtune/search/cli.py"} <= set(files)
    where = _run([str(installed["python"]), "-c", "import ssmtune, ssmtune.models as m; "
                  "print(ssmtune.__file__); print(m.__file__); print(ssmtune.__version__)"],
                 installed["user"], installed["env"]).stdout.split()  # fmt: skip
    assert all(Path(p).is_relative_to(installed["purelib"]) for p in where[:2]), where
    assert where[2] == "0.1.0"


def test_the_command_works_from_a_folder_with_clashing_names(installed: dict) -> None:
    ssmtune = str(installed["venv"] / "bin" / "ssmtune")
    user, env = installed["user"], installed["env"]
    assert "study" in _run([ssmtune, "--help"], user, env).stdout
    trained = json.loads(
        _run(
            [
                ssmtune,
                "train",
                "--task",
                "basicmotions",
                "--model",
                "linoss",
                "--set",
                "hidden=8",
                "--set",
                "state=8",
                "--set",
                "blocks=1",
                "--max-steps",
                "4",
                "--eval-every",
                "2",
                "--json",
            ],
            user,
            env,
        ).stdout  # fmt: skip
    )
    assert trained["status"] == "ok" and 0.0 <= trained["val"] <= 1.0, trained
    summary = json.loads(
        _run(
            [
                ssmtune,
                "study",
                "start",
                "--task",
                "basicmotions",
                "--space",
                "d-linoss-reduced",
                "--sampler",
                "random",
                "--n-trials",
                "2",
                "--workers",
                "1",
                "--max-steps",
                "10",
                "--eval-every",
                "5",
                "--storage",
                "sqlite:///s.db",
                "--json",
            ],
            user,
            env,
            timeout=600,
        ).stdout  # fmt: skip
    )
    assert summary["n_complete"] == 2 and summary["n_fail"] == 0, summary
