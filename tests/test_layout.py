"""fastnn's layout: modules and subpackages that import each other one way only,
each subpackage saying what it holds and what it may not import.

The graph is read from the source with ``ast``: every ``import`` and ``from
... import`` of a fastnn module anywhere in a file (inside functions and
``if TYPE_CHECKING:`` blocks too: a cycle there is still two modules that
each need the other to be understood).  ``fastnn.kernels`` (the top-level
``kernels/``) is left out: it imports nothing of fastnn's.  Importing
``fastnn.a.b`` also runs ``fastnn.a``'s ``__init__``; that implicit edge is
not counted, only the imports written down.
"""
import ast
import re
from pathlib import Path

import pytest

import fastnn

ROOT = Path(fastnn.__file__).parent
REPOSITORY = ROOT.parent
KERNELS = "fastnn.kernels"


def _is_kernels(name):
    return name == KERNELS or name.startswith(KERNELS + ".")


def _modules():
    """Module name → path, for every module of fastnn/ but the kernels."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(("fastnn", *parts))
        if not _is_kernels(name):
            modules[name] = path
    return modules


MODULES = _modules()
PACKAGES = sorted(name for name, path in MODULES.items() if path.name == "__init__.py"
                  and name != "fastnn")


def _known(name):
    """The fastnn module ``name`` is or lies in (``fastnn.x.f`` → ``fastnn.x``), or
    None (another package's, or the kernels)."""
    if _is_kernels(name):
        return None
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module):
    """The fastnn modules ``module`` imports, anywhere in its file."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(_known(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # Level 1 is the module's package, each further level one package up.
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            source = ".".join((base if node.level else []) + ([node.module] if node.module
                                                              else []))
            for alias in node.names:
                # ``from . import _sparse`` imports a module; ``from ._x import f`` a name.
                submodule = f"{source}.{alias.name}"
                if not _is_kernels(submodule):
                    found.add(submodule if submodule in MODULES else _known(source))
    return {name for name in found if name is not None and name != module}


GRAPH = {module: _imports(module) for module in MODULES}


def _unit(module):
    """The subpackage a module belongs to; a top-level module is its own."""
    parts = module.split(".")
    package = ".".join(parts[:2])
    return package if package in PACKAGES else module


def _cycle(graph):
    """One cycle of ``graph`` (node → set of nodes) as a list of nodes, or None."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            cycle = visit(successor)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return None


def test_the_graph_sees_the_imports_of_each_kind():
    # Absolute, relative from a package and from a module, in a function.
    assert "fastnn.estimators" in GRAPH["fastnn"]
    assert "fastnn.estimators._sparse" in GRAPH["fastnn.estimators._monitor"]
    assert "fastnn.persistence._model_file" in GRAPH["fastnn.estimators._load"]
    assert "fastnn.approx._plots" in GRAPH["fastnn.cli._approx_command"]


def test_fastnn_modules_import_each_other_without_cycles():
    cycle = _cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_fastnn_subpackages_import_each_other_without_cycles():
    units = {}
    for module, imported in GRAPH.items():
        units.setdefault(_unit(module), set()).update(
            _unit(name) for name in imported if _unit(name) != _unit(module))
    cycle = _cycle(units)
    assert cycle is None, "subpackages import each other: " + " -> ".join(cycle)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_subpackage_says_what_it_holds_and_what_it_may_not_import(package):
    docstring = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8")))
    assert docstring, f"{package}/__init__.py has no docstring"
    rule = re.search(r"^May not import (.+?)(?:\n\n|\Z)", docstring, re.M | re.S)
    assert rule, f"{package}'s docstring has no paragraph 'May not import ...'"
    forbidden = set(re.findall(r"``(fastnn[\w.]*)``", rule.group(1)))
    assert forbidden, f"{package}'s 'May not import' names no ``fastnn...`` module"
    broken = sorted((module, name) for module, imported in GRAPH.items()
                    if _unit(module) == package for name in imported
                    if any(name == f or name.startswith(f + ".") for f in forbidden))
    assert not broken, f"{package} says it may not import these: {broken}"


def test_only_python_dash_m_imports_the_command_line():
    importers = {module for module, imported in GRAPH.items() if _unit(module) != "fastnn.cli"
                 and any(_unit(name) == "fastnn.cli" for name in imported)}
    assert importers == {"fastnn.__main__"}


def test_the_shared_top_level_modules_import_nothing_of_fastnn():
    shared = [module for module in MODULES if module.count(".") == 1
              and module.rpartition(".")[2].startswith("_") and module != "fastnn.__main__"]
    assert shared and {module: GRAPH[module] for module in shared if GRAPH[module]} == {}


def test_pyproject_lists_every_subpackage():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is Python 3.11+")
    pyproject = REPOSITORY / "pyproject.toml"
    if not pyproject.exists():
        pytest.skip("fastnn is installed, not run from its checkout")
    with open(pyproject, "rb") as file:
        packages = tomllib.load(file)["tool"]["setuptools"]["packages"]
    assert sorted(packages) == sorted(["fastnn", KERNELS, *PACKAGES])
