"""`make bench-models`: model families against HistGradientBoosting, LightGBM and FLAML on
public tables that ship inside PyPI packages, all on the pipeline's own split.

Runs in its own venv (`.bench-venv-models/`, benchmarks/envs/models*.txt), never the
project's lock. Per table (benchmarks/model_tables.py):
1. the own-data route in a repo copy: CSV -> bootstrap -> `dvc repro evaluate`
   (benchmarks/model_pipeline.py): today's default and the split every system uses;
2. the systems (benchmarks/model_systems.py, model_tabml.py): the majority / mean baseline,
   tabml `auto` (the default), tabml tuned, HGB defaults, LightGBM defaults and FLAML, the
   searches at the same wall-clock budget; test metric, fit seconds, pickled size, and the
   score normalised between the baseline (0) and the best system (1);
3. design measurements: the recipes `auto` and the default search space were chosen from
   (model_hgb.py, model_tuning.py: `search`), `auto` candidates, ONNX parity
   (model_onnx.py), class weighting and thresholds on binary tables (model_imbalance.py),
   regression intervals with and without a held-out share (model_intervals.py), the
   leakage detector's hits and false alarms (model_leakage.py).
Results go to docs/benchmarks.md (section `models` for the systems, `models-design` for the
rest) and, in full, to a JSON file.
"""

import os

# One thread for every system (before numpy loads): fair budgets on a shared 2-core machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import dataclasses
import json
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks import (
    model_hgb,
    model_imbalance,
    model_intervals,
    model_leakage,
    model_onnx,
    model_report,
    model_systems,
    model_tabml,
    model_tuning,
)
from benchmarks.model_pipeline import run_pipeline
from benchmarks.model_tables import BY_NAME, TABLES, Table
from benchmarks.support import machine_description, write_section

PARTS = ("systems", "search", "auto", "onnx", "imbalance", "intervals", "leakage")
DESIGN = PARTS[1:]


def _row(result) -> dict:
    return dataclasses.asdict(result)


def bench_table(table: Table, work: Path, parts: set[str], budget_s: float) -> dict:
    """Every measurement of one table, as plain data."""
    run = run_pipeline(table, work)
    data = model_systems.table_data(run, table.task, table.primary)
    features = run.profile.features
    out = {
        "table": {
            "name": table.name,
            "source": table.source,
            "task": table.task,
            "primary": table.primary,
            "covers": table.covers,
            "train_rows": len(run.train),
            "test_rows": len(run.test),
            "numeric": features.numeric,
            "categorical": features.categorical,
            "dates": features.dates,
            "pipeline_s": run.seconds,
            "pipeline_metrics": run.metrics,
        },
    }
    auto = model_hgb.AUTO
    auto_params = auto.settings(len(data.y_train))
    if "systems" in parts:
        rows = [model_systems.baseline(data), model_tabml.tabml_auto(data)]
        rows.append(model_tabml.tabml_tuned(data, budget_s))
        rows += [model_systems.hgb_defaults(data), model_systems.lgbm_defaults(data)]
        rows.append(model_systems.flaml_budget(data, budget_s))
        out["systems"] = [_row(r) for r in rows]
    if "search" in parts:  # the recipes behind `auto` and the default search space
        proposed = model_hgb.fit_candidate(data, auto)
        proposed.system = f"auto recipe: HGB {auto.name}"
        rows = [model_systems.baseline(data), proposed, model_tuning.auto_choice(data)]
        rows += [model_systems.hgb_defaults(data), model_systems.flaml_budget(data, budget_s)]
        rows.append(model_tuning.tuned(data, budget_s, families=("hgb",)))
        rows.append(model_tuning.tuned(data, budget_s))
        out["search"] = [_row(r) for r in rows]
    if "auto" in parts:
        out["auto"] = [_row(model_hgb.fit_candidate(data, c)) for c in model_hgb.CANDIDATES]
        out["auto_cv"] = model_hgb.cv_rows(data, model_hgb.CV_CANDIDATES)
    if "onnx" in parts:
        out["onnx"] = model_onnx.parity_rows(data, auto_params)
    binary = table.task == "classification" and len(set(data.y_train)) == 2
    if "imbalance" in parts and binary:
        out["imbalance"] = model_imbalance.imbalance_rows(data, auto_params)
    if "intervals" in parts and table.task == "regression":
        out["intervals"] = model_intervals.interval_rows(data, auto_params)
    if "leakage" in parts:
        out["leakage"] = {"clean": model_leakage.detect(table.load(), table.target, table.task)}
        if table.leaky is not None:
            leaky = model_leakage.detect(table.leaky(), table.target, table.task)
            out["leakage"]["leaky"] = {**leaky, "planted": list(table.leaks)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tables", nargs="*", default=[t.name for t in TABLES], choices=[t.name for t in TABLES]
    )
    parser.add_argument("--parts", nargs="*", default=list(PARTS), choices=PARTS)
    parser.add_argument(
        "--budget",
        type=float,
        default=model_systems.BUDGET_S,
        help="wall seconds for FLAML and each tuned search",
    )
    parser.add_argument("--work", type=Path, help="keep the repo copies here (default: temp)")
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("reports/bench/models.json"),
        help="all results (default: reports/bench/models.json)",
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md alone")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only write the section from the results already in --json",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other tables' results already in --json (refresh some tables)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-models-") as temp:
        work = args.work or Path(temp)
        keep = (args.merge or args.report_only) and args.json.exists()
        results = json.loads(args.json.read_text()) if keep else {}
        for name in [] if args.report_only else args.tables:
            table_started, table_load = time.perf_counter(), os.getloadavg()
            fresh = bench_table(BY_NAME[name], work, set(args.parts), args.budget)
            # --merge keeps the parts this run did not measure
            results[name] = {**results.get(name, {}), **fresh} if args.merge else fresh
            results[name]["seconds"] = time.perf_counter() - table_started
            # each table's own load: tables may come from different runs (--merge)
            results[name]["load"] = [table_load, os.getloadavg()]
            results[name]["measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            print(model_report.table_line(results[name]), flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1, default=str))
    results = {t.name: results[t.name] for t in TABLES if t.name in results}  # table order
    command = "`make bench-models`"
    if args.merge or args.report_only:
        command += (
            " (some tables or parts refreshed with `--merge`: each table's time and load below)"
        )
    elif args.tables != [t.name for t in TABLES] or args.parts != list(PARTS):
        tables, parts = " ".join(args.tables), " ".join(args.parts)
        command = f"`python -m benchmarks.models --tables {tables} --parts {parts}`"
    machine = machine_description(load)
    sections = {}
    if any("systems" in r for r in results.values()):
        sections["models"] = model_report.section(results, machine, command, args.budget)
    if any(part in r for r in results.values() for part in DESIGN):
        sections["models-design"] = model_report.design_section(
            results, machine, command, args.budget
        )
    for name, markdown in sections.items():
        print(markdown)
        if not args.no_docs:
            write_section(name, markdown)


if __name__ == "__main__":
    main()
