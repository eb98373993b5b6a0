"""Package structure: the pipeline layering of imports and the installed package layout.

Every module belongs to a pipeline stage (``STAGE_RANKS``). A module may import modules of its
own stage or of a lower-ranked one, never a later stage: the IR knows nothing of the frontend,
the frontend nothing of schedules, and so on. ``allo_rtl/__init__.py`` and ``__main__.py`` sit on
top and may import anything; ``_errors`` is usable by all.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]

TOP = 100

# Stage of a module: the longest key that is the module's dotted name or a package prefix of
# it. Add new stages here; a module matching no key fails ``test_every_module_has_a_stage``.
STAGE_RANKS: dict[str, int] = {
    "allo_rtl._errors": -1,
    "allo_rtl.ir": 0,
    "allo_rtl.frontend": 1,
    "allo_rtl.primitives": 2,
    "allo_rtl._schedule": 3,
    "allo_rtl.reference": 4,
    "allo_rtl.lowering": 5,
    "allo_rtl.hw": 6,
    "allo_rtl.verilog": 7,
    "allo_rtl.sim": 8,
    "allo_rtl.testbenches": 8,  # cocotb testbenches: the simulation stage
    "allo_rtl.boards": 9,
    "allo_rtl._flow": 10,  # the bitstream flow: allo_rtl.build / synth
    "allo_rtl._targets": 10,  # the driver: runs the stages for s.build(target=...)
    "allo_rtl.__main__": TOP,
    "allo_rtl": TOP,  # allo_rtl/__init__.py only (submodules match a longer key)
}

# Top-level names that exist only as allo_rtl subpackages (see pyproject's package-dir).
NOT_TOP_LEVEL = ("primitives", "testbenches", "boards")


def _package_roots() -> dict[str, Path]:
    """Dotted package name -> source directory, from pyproject's package-dir (and allo_rtl)."""
    roots = {name: REPO / path for name, path in SETUPTOOLS.get("package-dir", {}).items()}
    roots.setdefault("allo_rtl", REPO / "allo_rtl")
    return roots


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the installed packages."""
    out: dict[str, Path] = {}
    roots = _package_roots()
    for pkg, root in roots.items():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("").parts
            if any(p == "__pycache__" for p in rel):
                continue
            name = ".".join((pkg, *rel))
            if name.endswith(".__init__"):
                name = name[: -len(".__init__")]
            # a directory mapped to another package (package-dir) is owned by that mapping
            owner = max((p for p in roots if name == p or name.startswith(p + ".")), key=len)
            if owner == pkg:
                out[name] = path
    return out


MODULES = _modules()


def _stage(module: str) -> str | None:
    keys = [k for k in STAGE_RANKS if module == k or module.startswith(k + ".")]
    return max(keys, key=len) if keys else None


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _imports(module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement of ``module``, relative imports
    resolved; ``from pkg import name`` counts as importing ``pkg.name`` when that is a module."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    package = module if _is_package(module) else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    found.append((f"<beyond top-level package: level {node.level}>", node.lineno))
                    continue
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return sorted(set(found), key=lambda item: (item[1], item[0]))


def test_modules_are_found():
    for name in (
        "allo_rtl",
        "allo_rtl._errors",
        "allo_rtl.ir._nodes",
        "allo_rtl.frontend._loops",
        "allo_rtl._schedule",
        "allo_rtl.reference",
        "allo_rtl.primitives",
        "allo_rtl.testbenches",
        "allo_rtl.boards",
    ):
        assert name in MODULES, name
    assert MODULES["allo_rtl.primitives"] == REPO / "primitives" / "__init__.py"


def test_every_module_has_a_stage():
    missing = sorted(m for m in MODULES if _stage(m) is None)
    assert not missing, f"modules without a pipeline stage, add them to STAGE_RANKS: {missing}"


def test_import_resolution():
    """Self-check of ``_imports`` on known statements."""
    imports = {name for name, _ in _imports("allo_rtl.frontend._loops")}
    assert {"allo_rtl._errors", "allo_rtl.ir._nodes", "allo_rtl.ir.types"} <= imports
    assert "allo_rtl.frontend._env" in imports
    assert "allo_rtl.ir._values" in {name for name, _ in _imports("allo_rtl.frontend._exprs")}
    assert "allo_rtl._schedule" in {name for name, _ in _imports("allo_rtl")}


def _violations(module: str) -> list[str]:
    """The imports of ``module`` that break the layering, as ``file:line: message``."""
    stage = _stage(module)
    assert stage is not None
    rank = STAGE_RANKS[stage]
    path = MODULES[module]
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    errors = []
    for target, line in _imports(module):
        top = target.split(".")[0]
        if top in NOT_TOP_LEVEL:
            errors.append(
                f"{shown}:{line}: imports `{target}`; use `allo_rtl.{target}` "
                f"(`{top}` is not a top-level package once installed)"
            )
            continue
        if top != "allo_rtl":
            continue  # standard library or a third-party package
        target_stage = _stage(target)
        if target_stage is None:
            errors.append(f"{shown}:{line}: imports `{target}`, which is not in STAGE_RANKS")
            continue
        if STAGE_RANKS[target_stage] > rank:
            errors.append(
                f"{shown}:{line}: `{module}` (stage {stage}, rank {rank}) imports `{target}` "
                f"(stage {target_stage}, rank {STAGE_RANKS[target_stage]}), a later stage"
            )
    return errors


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_respect_pipeline_layering(module):
    if _stage(module) is None:
        pytest.skip("no stage (reported by test_every_module_has_a_stage)")
    errors = _violations(module)
    assert not errors, "layering violations:\n" + "\n".join(errors)


def test_layering_check_catches_violations(tmp_path, monkeypatch):
    """Self-check: an IR module importing the frontend, the top package, a later stage
    lazily, or `primitives` as a top-level name is reported, naming file, line and import."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from ..frontend import parse\n"
        "import primitives\n"
        "from .. import customize\n"
        "def f():\n"
        "    from allo_rtl.reference import NumPyModule\n"
        "from .types import int32\n"
        "from .._errors import Loc\n"
    )
    monkeypatch.setitem(MODULES, "allo_rtl.ir._bad", bad)
    errors = _violations("allo_rtl.ir._bad")
    prefix = f"{bad}:"
    assert errors == [
        f"{prefix}1: `allo_rtl.ir._bad` (stage allo_rtl.ir, rank 0) imports `allo_rtl.frontend` "
        "(stage allo_rtl.frontend, rank 1), a later stage",
        f"{prefix}2: imports `primitives`; use `allo_rtl.primitives` "
        "(`primitives` is not a top-level package once installed)",
        f"{prefix}3: `allo_rtl.ir._bad` (stage allo_rtl.ir, rank 0) imports `allo_rtl` "
        f"(stage allo_rtl, rank {TOP}), a later stage",
        f"{prefix}5: `allo_rtl.ir._bad` (stage allo_rtl.ir, rank 0) imports "
        "`allo_rtl.reference` (stage allo_rtl.reference, rank 4), a later stage",
    ]


# ------------------------------------------------------------------------------------------
# Installed layout


def _neutral_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # only the installed packages, not the checkout
    return env


def test_user_layout_dirs_are_not_top_level_packages(tmp_path):
    code = (
        "import importlib.util,sys; print(importlib.util.find_spec('primitives'), "
        "importlib.util.find_spec('testbenches'), importlib.util.find_spec('boards'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=_neutral_env(),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "None None None", result.stdout


def test_user_layout_dirs_are_allo_rtl_subpackages(tmp_path):
    code = (
        "import allo_rtl.primitives, allo_rtl.testbenches, allo_rtl.boards\n"
        "for m in (allo_rtl.primitives, allo_rtl.testbenches, allo_rtl.boards):\n"
        "    print(m.__name__, m.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=_neutral_env(),
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    for name in NOT_TOP_LEVEL:
        assert Path(lines[f"allo_rtl.{name}"]).resolve().parent.name == name


def test_every_package_dir_is_listed_in_pyproject():
    listed = set(SETUPTOOLS["packages"])
    found = {m for m in MODULES if _is_package(m)}
    missing = sorted(found - listed)
    assert not missing, f"package directories missing from [tool.setuptools] packages: {missing}"
    assert "allo_rtl.ir" in found and "allo_rtl.primitives" in found


def test_every_allo_rtl_subdirectory_with_init_is_listed():
    """The same check straight from the file system under allo_rtl/."""
    listed = set(SETUPTOOLS["packages"])
    root = REPO / "allo_rtl"
    for init in root.rglob("__init__.py"):
        rel = init.parent.relative_to(REPO).parts
        assert ".".join(rel) in listed, f"{init.parent} is a package but not in pyproject.toml"


def test_listed_packages_exist():
    roots = _package_roots()
    for pkg in SETUPTOOLS["packages"]:
        owner = max((p for p in roots if pkg == p or pkg.startswith(p + ".")), key=len)
        rel = pkg[len(owner) :].lstrip(".").split(".") if pkg != owner else []
        directory = roots[owner].joinpath(*rel)
        assert (directory / "__init__.py").is_file(), f"{pkg}: no {directory}/__init__.py"
