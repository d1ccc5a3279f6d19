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
    assert "serving/service.py" in shipped and "scoring/model.py" in shipped
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


# The one place that runs the ONNX session and the one that builds its feeds (the input path).
ONNX_SESSION_MODULE = PACKAGE / "scoring" / "model.py"
FEEDS_MODULE = PACKAGE / "scoring" / "inputs.py"


# The bench-only model-family study (`make bench-models`, in its own environment) measures
# external systems (LightGBM, XGBoost, FLAML) and candidate families tabml does not ship: it
# converts and runs their ONNX graphs itself and picks each system's classifier or regressor
# by its tables' task. The rules below are about tabml's own code and its benchmarks.
FAMILY_STUDY = {ROOT / "benchmarks" / "models.py", *(ROOT / "benchmarks").glob("model_*.py")}


def _python_files() -> list[Path]:
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]
    return sorted(file for file in files if file not in FAMILY_STUDY)


def test_only_the_packaged_model_runs_onnx():
    """An ONNX session is made, and run, in scoring/model.py only: every surface (serving,
    explanations, batch, monitoring, retraining, the parity check, the benchmarks) goes
    through `PackagedModel`."""
    for file in _python_files():
        if file == ONNX_SESSION_MODULE:
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            assert node.attr != "InferenceSession", f"{file.relative_to(ROOT)} makes a session"
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            assert (name, node.attr) != ("session", "run"), f"{file.relative_to(ROOT)} runs one"


def test_feeds_are_built_by_the_input_path_only():
    """No module but scoring/inputs.py turns records or frames into ONNX feeds: the ones that
    once did it their own way (scorer, explainer, batch chunks, parity, retraining) are gone,
    and none defines a `feeds...` function of its own."""
    for file in _python_files():
        if file == FEEDS_MODULE:
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.FunctionDef):
                assert "feeds" not in node.name.split("_")[0:2] or node.name.startswith("_"), (
                    f"{file.relative_to(ROOT)} defines {node.name}"
                )
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("feeds_from_records", "feeds_from_frame"), file


# A record's validation of its own fields may name a task; behaviour may not.
TASK_NAMES_MAY_BE_COMPARED_IN = {
    PACKAGE / "data" / "profile.py",
    PACKAGE / "scoring" / "metadata.py",
}


def test_no_code_branches_on_a_task_name():
    """Tasks are types (scoring/task.py, model/tasks.py, packaging/tasks.py,
    monitoring/tasks.py), chosen once: nothing compares `task == "regression"`."""
    for file in _python_files():
        if file in TASK_NAMES_MAY_BE_COMPARED_IN:
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                named = [o.value for o in operands if isinstance(o, ast.Constant)]
                assert not {"regression", "classification"} & set(named), (
                    f"{file.relative_to(ROOT)}:{node.lineno} compares a task's name"
                )
