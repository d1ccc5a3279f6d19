"""The layout's rules, checked by folder: runtime imports, stage deps, what the bento ships."""

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tabml.packaging.bento_build import RUNTIME_PATHS, runtime_modules

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PACKAGE = SRC / "tabml"
# The layer rules are import-linter contracts in pyproject.toml (`make lint` runs them too).
CONTRACTS = {c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())
             ["tool"]["importlinter"]["contracts"]}  # fmt: skip
RUNTIME_FOLDERS = ("scoring", "serving")
# What the shipped runtime (scoring/ and serving/: the bento, batch scoring) may import.
RUNTIME_MAY_IMPORT = {"atomic", "errors", "paths", "yaml_io", *RUNTIME_FOLDERS}
# Never in the runtime: training, data preparation, packaging libraries.
FORBIDDEN_LIBRARIES = {m for m in CONTRACTS["runtime"]["forbidden_modules"] if "." not in m}


def _module_file(name: str) -> Path | None:
    path = SRC.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def imported_names(file: Path) -> set[str]:
    """Every module an import statement in `file` names, at any depth (lazy imports too)."""
    names = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def import_closure(module: str) -> set[Path]:
    """Source files of every tabml module that importing `module` can load."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        parts = todo.pop().split(".")
        if parts[0] != "tabml":
            continue
        for depth in range(1, len(parts) + 1):  # importing a.b.c imports a and a.b first
            file = _module_file(".".join(parts[:depth]))
            if file is not None and file not in seen:
                seen.add(file)
                todo.extend(imported_names(file))
    return seen


def test_the_layer_contracts_hold(monkeypatch):
    from importlinter.cli import lint_imports

    monkeypatch.setattr(sys, "path", list(sys.path))  # it puts the working directory first
    config = str(ROOT / "pyproject.toml")
    assert lint_imports(config_filename=config, no_cache=True, no_logo=True) == 0, "see above"


def test_the_runtime_contract_names_every_other_top_level_module():
    # A new top-level module is either allowed in the runtime here or forbidden in the
    # contract: an allow-list, kept as import-linter's forbidden list.
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    modules |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    forbidden = {m.split(".")[1] for m in CONTRACTS["runtime"]["forbidden_modules"] if "." in m}
    assert forbidden | RUNTIME_MAY_IMPORT == modules
    assert not forbidden & RUNTIME_MAY_IMPORT
    assert set(CONTRACTS["runtime"]["source_modules"]) == {f"tabml.{f}" for f in RUNTIME_FOLDERS}


@pytest.mark.integration  # a fresh interpreter
def test_importing_the_runtime_loads_no_training_library():
    modules = [
        "tabml." + f.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        for folder in RUNTIME_FOLDERS
        for f in sorted((PACKAGE / folder).glob("*.py"))
        if f.stem not in ("__init__", "service")  # the service needs a packaged model
    ]
    code = (
        f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}]; "
        f"print(sorted(m for m in {sorted(FORBIDDEN_LIBRARIES)!r} if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[]", out.stderr


def _stages() -> dict:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: spec.get("do", spec) for name, spec in stages.items()}  # foreach: under `do`


@pytest.mark.parametrize("stage", list(_stages()))
def test_stage_deps_cover_its_import_closure(stage):
    spec = _stages()[stage]
    module = spec["cmd"].split(" -m ")[1].split()[0]
    deps = [ROOT / d for d in spec["deps"]]
    for file in sorted(import_closure(module)):
        covered = any(file == d or d in file.parents for d in deps)
        assert covered, f"stage {stage} runs {file.relative_to(ROOT)} but does not depend on it"


def test_package_stage_depends_on_what_the_bento_ships():
    deps = set(_stages()["package"]["deps"])
    assert {f"src/tabml/{p}" for p in RUNTIME_PATHS} <= deps
    shipped = runtime_modules(PACKAGE)
    assert "serving/service.py" in shipped and "scoring/scorer.py" in shipped
    assert not [m for m in shipped if m.startswith(("model/", "data/", "packaging/"))]


def test_architecture_doc_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = []
    for file in sorted(PACKAGE.rglob("*.py")):
        relative = file.relative_to(PACKAGE).as_posix()
        folder = relative.split("/")[0] + "/"
        if file.name in ("__init__.py", "__main__.py") or folder in ("stages/", "cli/"):
            continue  # described as a folder
        if f"`{relative}`" not in text and f"{file.name}`" not in text:
            missing.append(relative)
    assert not missing, f"docs/architecture.md does not describe {missing}"
