"""The house's doors (STYLE.md, issue 15): a package uses another only through what that
package's ``__init__`` exports in ``__all__``, and only `studies._optuna_internals` touches
Optuna's private modules and attributes. One import name (issue 23): the folders are installed
as ``ssmtune.models``, ``ssmtune.search``, ...; no module, test or benchmark imports them by
their bare folder names (``import models`` would get whatever ``models`` comes first on the
path: a user's ``models.py``, another distribution's package), and the top-level door,
``ssmtune/__init__.py``, is for users: the packages do not import its names.

Every ``.py`` of the packages is parsed (nothing is imported), so a new offender anywhere
fails here with its file and line. Tests are checked for bare names only: they may import the
private names of the package they test.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "search", "studies", "spaces", "tasks", "benchmarks")
#: The one import package; `PACKAGES` are its subpackages (``ssmtune.models`` is ``models/``).
TOP = "ssmtune"
#: The one module allowed to use Optuna's private names (its docstring lists them).
OPTUNA_INTERNALS = Path("studies/_optuna_internals.py")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def package_files() -> list[Path]:
    return sorted(p.relative_to(ROOT) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def ours(module: str) -> str | None:
    """`module` as a name inside ssmtune (``ssmtune.search._runner`` -> ``search._runner``,
    ``ssmtune`` -> ``""``, the door); None for a module that is not ssmtune's."""
    if module == TOP:
        return ""
    if module.startswith(TOP + "."):
        return module[len(TOP) + 1 :]
    return None


def bare_imports(path: Path, root: Path = ROOT) -> list[str]:
    """The imports of module `path` that name one of `PACKAGES` without ``ssmtune.``."""
    tree = ast.parse((root / path).read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            if module.split(".")[0] in PACKAGES:
                found.append(f"{path}:{node.lineno} imports {module}; use {TOP}.{module}")
    return found


@cache
def exports(package: str, root: Path = ROOT) -> frozenset[str] | None:
    """The names of `package`'s ``__all__``, read from its ``__init__.py``; None without one."""
    tree = ast.parse((root / package / "__init__.py").read_text())
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return frozenset(ast.literal_eval(node.value))
    return None


@cache
def optuna_private_attributes() -> frozenset[str]:
    """The private attribute and method names of Optuna's studies, trials and storages, from
    the classes and from live objects (instance attributes are set in ``__init__``)."""
    import optuna
    from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage

    rdb = RDBStorage("sqlite:///:memory:")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="s", storage=rdb)
    study = optuna.load_study(study_name="s", storage=rdb)
    trial = study.ask()
    live = (study, trial, study.trials[0], rdb, rdb.get_all_studies()[0])
    cached = study._storage  # the cache wrapper optuna.load_study puts around the RDB
    classes = (optuna.Study, optuna.Trial, optuna.trial.FrozenTrial, BaseStorage, RDBStorage,
               InMemoryStorage, type(cached))  # fmt: skip
    names = {n for c in classes for n in dir(c)} | {n for o in (*live, cached) for n in vars(o)}
    return frozenset(n for n in names if _private(n) and n != "_abc_impl")


def offences(path: Path, root: Path = ROOT) -> list[str]:
    """What module `path` (relative to `root`) does that the rules forbid, one line each."""
    own = path.parts[0]
    others = set(PACKAGES) - {own}
    internals = path == OPTUNA_INTERNALS
    tree = ast.parse((root / path).read_text(), filename=str(path))
    found: list[str] = bare_imports(path, root)
    imported: set[str] = set()  # our packages imported as a whole (`from ssmtune import tasks`)

    def where(node: ast.AST) -> str:
        return f"{path}:{node.lineno}"

    def check_module(node: ast.AST, module: str, names: list[str]) -> None:
        inner = ours(module)
        if inner == "":  # the door: only the subpackages themselves may be taken from it
            if not names:
                found.append(f"{where(node)} imports {TOP}, the users' door")
            found.extend(
                f"{where(node)} imports {TOP}.{n} from the users' door; import it from its package"
                for n in names
                if n not in PACKAGES
            )
            return
        top, *rest = (inner if inner is not None else module).split(".")
        if inner is not None and top in others:
            if any(_private(p) for p in rest):
                found.append(f"{where(node)} imports the private module {module}")
            for name in names:
                if _private(name):
                    found.append(f"{where(node)} imports the private name {module}.{name}")
                elif not rest and name not in (exports(top, root) or ()):
                    found.append(f"{where(node)} imports {top}.{name}, not in {top}.__all__")
        if top == "optuna" and not internals:
            if any(_private(p) for p in rest):
                found.append(f"{where(node)} imports Optuna's private module {module}")
            found.extend(
                f"{where(node)} imports Optuna's private name {module}.{n}"
                for n in names
                if _private(n)
            )

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_module(node, alias.name, [])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            check_module(node, node.module, [a.name for a in node.names])
            if node.module == TOP:
                imported |= {a.name for a in node.names if a.asname is None} & others

    optuna_private = optuna_private_attributes()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            if isinstance(base, ast.Name) and base.id in imported:
                if _private(node.attr):
                    found.append(f"{where(node)} uses the private {base.id}.{node.attr}")
                elif node.attr not in (exports(base.id, root) or ()):
                    found.append(f"{where(node)} uses {base.id}.{node.attr}, not in __all__")
            if internals or not _private(node.attr):
                continue
            if isinstance(base, ast.Name) and base.id == "optuna":
                found.append(f"{where(node)} uses Optuna's private optuna.{node.attr}")
            elif node.attr in optuna_private and not (
                isinstance(base, ast.Name) and base.id in ("self", "cls")
            ):
                found.append(f"{where(node)} uses Optuna's private attribute .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and not internals
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in optuna_private
        ):
            found.append(f"{where(node)} uses Optuna's private attribute {node.args[1].value!r}")
    return sorted(found, key=lambda line: int(line.split(":")[1].split()[0]))


def test_no_package_reaches_into_another_or_into_optuna() -> None:
    files = [*package_files(), Path(TOP, "__init__.py")]
    found = [line for path in files for line in offences(path)]
    assert not found, "imports past the public doors:\n" + "\n".join(found)


def test_nothing_imports_a_bare_package_name() -> None:
    """Packages, the door, benchmarks and tests all import ``ssmtune.models``, never
    ``models`` (the test suite and ``python -m ssmtune.benchmarks`` included)."""
    tests = sorted(p.relative_to(ROOT) for p in (ROOT / "tests").rglob("*.py"))
    files = [*package_files(), Path(TOP, "__init__.py"), *tests]
    found = [line for path in files for line in bare_imports(path)]
    assert not found, "bare package names:\n" + "\n".join(found)


def test_one_top_level_name_is_installed() -> None:
    """pyproject's packages are `TOP` and its subpackages, each mapped to its folder."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {p.split(".")[0] for p in setup["packages"]} == {TOP}
    assert setup["package-dir"] == {TOP: TOP, **{f"{TOP}.{p}": p for p in PACKAGES}}


@pytest.mark.parametrize("package", ["models", "search", "studies", "spaces", "tasks"])
def test_every_package_exports_through_its_init(package: str) -> None:
    """``__all__`` lists each name once, and each is bound in the ``__init__``."""
    names = exports(package)
    assert names is not None, f"{package}/__init__.py has no __all__"
    tree = ast.parse((ROOT / package / "__init__.py").read_text())
    bound = {
        a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names
    }
    bound |= {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    bound |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    assert not names - bound, f"{package}.__all__ names what it does not bind: {names - bound}"


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """The checker itself, on a module that breaks every rule once."""
    bad = tmp_path / "search" / "_bad.py"
    bad.parent.mkdir()
    bad.write_text(
        "from ssmtune import studies\n"
        "from ssmtune.studies._trials import fail_trial\n"
        "from ssmtune.studies import _trials, not_exported\n"
        "from optuna.storages._rdb import models\n"
        "import optuna\n"
        "def f(study):\n"
        "    studies.not_exported\n"
        "    optuna._imports\n"
        "    getattr(study, '_storage')\n"
        "    return study._study_id\n"
        "import tasks\n"
        "from models._config import LinOSSConfig\n"
        "from ssmtune import start_study\n"
        "import ssmtune\n"
    )
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "__init__.py").write_text("__all__ = ['fail_trial']\n")
    found = offences(Path("search/_bad.py"), tmp_path)
    assert [line.split(" ", 1)[0] for line in found] == [
        "search/_bad.py:2", "search/_bad.py:3", "search/_bad.py:3", "search/_bad.py:4",
        "search/_bad.py:7", "search/_bad.py:8", "search/_bad.py:9", "search/_bad.py:10",
        "search/_bad.py:11", "search/_bad.py:12", "search/_bad.py:13", "search/_bad.py:14",
    ]  # fmt: skip
    assert "use ssmtune.tasks" in found[8] and "use ssmtune.models._config" in found[9]
    assert "users' door" in found[10] and "users' door" in found[11]


# ---------------------------------------------------------------------------- import circles


def module_imports(path: Path, root: Path = ROOT) -> set[str]:
    """The modules of its own package that module `path` imports, anywhere in it (imports
    inside functions and under ``TYPE_CHECKING`` included): ``_name`` for ``package._name``,
    ``__init__`` for the package itself."""
    package = path.parts[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse((root / path).read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top, _, rest = (ours(node.module) or "").partition(".")
            if top == package and rest:
                found.add(rest.split(".")[0])
            elif top == package:  # `from ssmtune.search import _b` imports the module _b
                names = {a.name for a in node.names}
                modules = {n for n in names if (root / top / f"{n}.py").is_file()}
                found |= modules | ({"__init__"} if names - modules else set())
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, _, rest = (ours(alias.name) or "").partition(".")
                if top == package:
                    found.add(rest.split(".")[0] if rest else "__init__")
    return found - {path.stem}


def import_graph(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports."""
    return {
        p.stem: module_imports(p.relative_to(root), root)
        for p in sorted((root / package).glob("*.py"))
    }


def package_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Package -> the other packages of ours its modules import."""
    graph: dict[str, set[str]] = {pkg: set() for pkg in PACKAGES}
    for path in package_files():
        tree = ast.parse((root / path).read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                if node.module == TOP:  # `from ssmtune import tasks`
                    names += [f"{TOP}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            inner = {ours(n) for n in names} - {None, ""}
            graph[path.parts[0]] |= {n.split(".")[0] for n in inner if n} & set(PACKAGES)
    return {pkg: deps - {pkg} for pkg, deps in graph.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle of `graph`, each once, as a path that ends where it starts (the
    strongly connected components of more than one module, walked from their first module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_walk(graph, c) for c in sorted(components)]


def _walk(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A closed path through the circle `component`, from its first module back to it."""
    members, start = set(component), component[0]
    path, seen = [start], {start}
    while True:
        nexts = sorted(graph[path[-1]] & members)
        if start in nexts and len(path) > 1:
            return [*path, start]
        fresh = [n for n in nexts if n not in seen]
        if not fresh:  # the shortest way back is through a module already on the path
            return [*path, nexts[0]]
        path.append(fresh[0])
        seen.add(fresh[0])


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_within_a_package(package: str) -> None:
    """A module can be read, and imported, after the modules it builds on (lazy imports
    inside functions count: they hide a circle, they do not remove it)."""
    found = circles(import_graph(package))
    assert not found, f"import circles in {package}/:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_import_circle_between_packages() -> None:
    """Data flows one way (STYLE.md): space -> runner -> worker -> study -> report."""
    graph = package_graph()
    assert not circles(graph), circles(graph)
    assert "search" not in graph["studies"] | graph["models"] | graph["spaces"] | graph["tasks"]


def test_the_circle_finder_finds_each_circle_once(tmp_path: Path) -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert circles({"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x", "z"}, "z": set()}) == [
        ["a", "b", "a"],
        ["x", "y", "x"],
    ]
    pkg = tmp_path / "search"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from ssmtune.search._a import f\n")
    (pkg / "_a.py").write_text("def f():\n    from ssmtune.search import _b\n")
    (pkg / "_b.py").write_text("import ssmtune.search._a\nfrom ssmtune.search import g\n")
    assert import_graph("search", tmp_path) == {
        "__init__": {"_a"},
        "_a": {"_b"},
        "_b": {"_a", "__init__"},
    }
    assert circles(import_graph("search", tmp_path)) == [["__init__", "_a", "_b", "__init__"]]
