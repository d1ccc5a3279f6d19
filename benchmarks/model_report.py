"""The `models` and `models-design` sections of docs/benchmarks.md from the results of
benchmarks/models.py."""

import math

from benchmarks.model_tabml import AUTO_SYSTEM

REFERENCE = "HGB defaults"
FLAML = "FLAML"  # the start of FLAML's system name
TUNED = "tabml tuned"


def primary(row: dict, table: dict) -> float | None:
    value = row.get("metrics", {}).get(table["primary"])
    return None if value is None else float(value)


def normalised(results: dict, key: str = "systems") -> dict[str, dict[str, float]]:
    """system -> table -> (score - baseline) / (best - baseline), best over every system."""
    out: dict[str, dict[str, float]] = {}
    for name, result in results.items():
        if key not in result:
            continue
        systems = result[key]
        table = result["table"]
        base = next(primary(r, table) for r in systems if r["system"] == "baseline")
        scores = {r["system"]: primary(r, table) for r in systems if r["system"] != "baseline"}
        best = max(scores.values())
        for system, value in scores.items():
            out.setdefault(system, {})[name] = (value - base) / (best - base)
    return out


def table_line(result: dict) -> str:
    table = result["table"]
    scores = ", ".join(f"{r['system']} {primary(r, table):.4f}" for r in result.get("systems", []))
    return f"{table['name']} ({table['primary']}, {result['seconds']:.0f} s): {scores}"


def _cell(value: float | None, digits: int = 4) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.{digits}f}")
    )


def _systems(results: dict, budget: float, key: str = "systems") -> list[str]:
    names = [n for n in results if key in results[n]]
    if not names:
        return []
    order = [r["system"] for r in results[names[0]][key]]
    norm = normalised(results, key)
    head = "| system | " + " | ".join(names) + " | mean normalised |"
    lines = [
        "### Test metric per table (normalised score in brackets)",
        "",
        "Primary metric per table: "
        + ", ".join(f"{n} {results[n]['table']['primary']}" for n in names)
        + ".",
        "",
        head,
        "|---" * (len(names) + 2) + "|",
    ]
    for system in order:
        cells = []
        for name in names:
            row = next((r for r in results[name][key] if r["system"] == system), None)
            value = None if row is None else primary(row, results[name]["table"])
            score = norm.get(system, {}).get(name)
            cells.append(_cell(value) + ("" if score is None else f" ({score:.3f})"))
        mean = norm.get(system)
        mean_cell = _cell(sum(mean.values()) / len(mean), 3) if mean else "0 (by definition)"
        lines.append(f"| {system} | " + " | ".join(cells) + f" | {mean_cell} |")
    lines += [
        "",
        "### Fit seconds / pickled model size (KiB) / configurations tried",
        "",
        head.replace(" mean normalised |", ""),
        "|---" * (len(names) + 1) + "|",
    ]
    for system in order:
        cells = []
        for name in names:
            row = next((r for r in results[name][key] if r["system"] == system), None)
            if row is None:
                cells.append("-")
                continue
            trials = f" / {row['trials']}" if row.get("trials") is not None else ""
            cells.append(f"{row['fit_s']:.2f} s / {row['size'] / 1024:.0f}{trials}")
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Searches at {budget:g} s count wall time, so their trials depend on the "
        "machine's load; the count is the last figure. Notes per table:",
        "",
    ]
    for name in names:
        for row in results[name][key]:
            if row.get("note"):
                lines.append(f"- {name}, {row['system']}: {row['note']}")
    return lines


def _auto(results: dict) -> list[str]:
    names = [n for n in results if "auto" in results[n]]
    if not names:
        return []
    lines = [
        "### `auto` candidates: test metric, relative to HGB defaults",
        "",
        "| candidate | " + " | ".join(names) + " | worst |",
        "|---" * (len(names) + 2) + "|",
    ]
    for index, candidate in enumerate(results[names[0]]["auto"]):
        cells, worst = [], math.inf
        for name in names:
            table = results[name]["table"]
            row = results[name]["auto"][index]
            value = primary(row, table)
            ref = (
                next(
                    primary(r, table)
                    for r in results[name].get("systems", [])
                    if r["system"] == REFERENCE
                )
                if "systems" in results[name]
                else None
            )
            if value is None or ref is None:
                cells.append(_cell(value))
                continue
            relative = (value - ref) / abs(ref)
            worst = min(worst, relative)
            cells.append(f"{value:.4f} ({relative:+.1%})")
        worst_cell = "-" if worst == math.inf else f"{worst:+.1%}"
        lines.append(f"| {candidate['system']} | " + " | ".join(cells) + f" | {worst_cell} |")
    cv = [n for n in names if "auto_cv" in results[n]]
    if not cv:
        return lines
    folds = results[cv[0]]["auto_cv"][0]["folds"]
    lines += [
        "",
        f"The same, by {folds}-fold repeated CV on train + test pooled (mean ± std; "
        "relative to the first row):",
        "",
        "| candidate | " + " | ".join(cv) + " | worst |",
        "|---" * (len(cv) + 2) + "|",
    ]
    for index, first in enumerate(results[cv[0]]["auto_cv"]):
        cells, worst = [], math.inf
        for name in cv:
            row, ref = results[name]["auto_cv"][index], results[name]["auto_cv"][0]["mean"]
            relative = (row["mean"] - ref) / abs(ref)
            worst = min(worst, relative)
            cells.append(f"{row['mean']:.4f} ± {row['std']:.4f} ({relative:+.1%})")
        lines.append(f"| {first['candidate']} | " + " | ".join(cells) + f" | {worst:+.1%} |")
    return lines


def _onnx(results: dict) -> list[str]:
    names = [n for n in results if "onnx" in results[n]]
    if not names:
        return []
    lines = [
        "### ONNX parity on the test split (float32 inputs)",
        "",
        "max |probability difference| and labels that differ (classification), max "
        "|value difference| / training target std (regression); then the same on the test "
        "split stressed (10% of numbers missing, 5% of categories missing, 5% unseen); then "
        "the median time of one one-row onnxruntime call. `fails` = no conversion.",
        "",
        "| pipeline | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for index, first in enumerate(results[names[0]]["onnx"]):
        cells = []
        for name in names:
            row = results[name]["onnx"][index]
            if not row.get("converts"):
                cells.append("fails")
            elif "max_abs_dp" in row:
                stress = row["stressed"]
                cells.append(
                    f"{row['max_abs_dp']:.1e}, {row['label_mismatches']} labels; "
                    f"{stress['max_abs_dp']:.1e}, {stress['label_mismatches']} labels; "
                    f"{row['one_row_us']:.0f} µs"
                )
            else:
                stress = row["stressed"]["max_diff_over_std"]
                cells.append(
                    f"{row['max_diff_over_std']:.1e}; {stress:.1e}; {row['one_row_us']:.0f} µs"
                )
        lines.append(f"| {first['pipeline']} | " + " | ".join(cells) + " |")
    errors = {
        r["error"].splitlines()[0][:160]
        for n in names
        for r in results[n]["onnx"]
        if not r.get("converts")
    }
    return lines + [""] + [f"- conversion error: {e}" for e in sorted(errors)]


def _imbalance(results: dict) -> list[str]:
    lines = []
    for name, result in results.items():
        if "imbalance" not in result:
            continue
        lines += [
            f"### Class weighting and decision threshold: {name}",
            "",
            "| model | threshold | macro-F1 | accuracy | balanced acc. | recall (+) | "
            "precision (+) | PR AUC |",
            "|---" * 8 + "|",
        ]
        for row in result["imbalance"]:
            threshold = row.get("threshold")
            lines.append(
                f"| {row['model']} | {'argmax' if threshold is None else f'{threshold:.3f}'} | "
                f"{row['f1_macro']:.4f} | {row['accuracy']:.4f} | "
                f"{row['balanced_accuracy']:.4f} | {row['recall_positive']:.3f} | "
                f"{_cell(row.get('precision_positive'), 3)} | {_cell(row.get('pr_auc'), 3)} |"
            )
        lines.append("")
    return lines


def _intervals(results: dict) -> list[str]:
    names = [n for n in results if "intervals" in results[n]]
    if not names:
        return []
    lines = [
        "### Regression intervals (90%) with the `auto` settings: r2 / coverage / half-width",
        "",
        "| method | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for index, first in enumerate(results[names[0]]["intervals"]):
        cells = [
            f"{r['r2']:.4f} / {r['coverage']:.3f} / {r['half_width']:.4g}"
            for r in (results[n]["intervals"][index] for n in names)
        ]
        lines.append(f"| {first['method']} | " + " | ".join(cells) + " |")
    return lines


def _leakage(results: dict) -> list[str]:
    names = [n for n in results if "leakage" in results[n]]
    if not names:
        return []
    lines = [
        "### Leakage detector",
        "",
        "| table | columns | flags on the clean table | seconds | highest unflagged "
        "single-column score | most distinct unflagged column | planted | flags on the "
        "leaky copy |",
        "|---" * 8 + "|",
    ]
    for name in names:
        clean, leaky = results[name]["leakage"]["clean"], results[name]["leakage"].get("leaky")
        best, distinct = clean["best_single"], clean["most_distinct"]
        flags = "; ".join(f"{k}: {v}" for k, v in clean["flags"].items()) or "none"
        planted = ", ".join(leaky["planted"]) if leaky else "-"
        caught = "; ".join(f"{k}: {v}" for k, v in leaky["flags"].items()) if leaky else "-"
        lines.append(
            f"| {name} | {clean['columns']} | {flags} | {clean['seconds']:.1f} | "
            f"{best[0]} {_cell(best[1], 3)} | {distinct[0]} {_cell(distinct[1], 3)} | "
            f"{planted} | {caught} |"
        )
    return lines


def _score(result: dict, system_start: str) -> float | None:
    row = next((r for r in result["systems"] if r["system"].startswith(system_start)), None)
    return None if row is None else primary(row, result["table"])


def _checks(results: dict) -> list[str]:
    """The two targets: `auto` within 1% of HGB defaults on every table; tuned >= FLAML."""
    names = [n for n in results if "systems" in results[n]]
    lines = [
        "### The targets",
        "",
        "| table | primary metric | tabml auto | HGB defaults | auto relative to HGB defaults |",
        "|---|---|---|---|---|",
    ]
    worst = math.inf
    for name in names:
        auto, ref = _score(results[name], AUTO_SYSTEM), _score(results[name], REFERENCE)
        relative = (auto - ref) / abs(ref)
        worst = min(worst, relative)
        lines.append(
            f"| {name} | {results[name]['table']['primary']} | {auto:.4f} | {ref:.4f} | "
            f"{relative:+.2%} |"
        )
    norm = normalised(results)

    def mean(start: str) -> float:
        system = next(s for s in norm if s.startswith(start))
        return sum(norm[system].values()) / len(norm[system])

    tuned, flaml = mean(TUNED), mean(FLAML)
    lines += [
        "",
        f"- `auto` without tuning, worst table: {worst:+.2%} relative to HistGradientBoosting "
        f"defaults (target: no worse than -1%): {'met' if worst >= -0.01 else 'NOT met'}.",
        f"- tabml tuned, mean normalised score {tuned:.3f}; FLAML at the same budget "
        f"{flaml:.3f} (target: tuned >= FLAML): {'met' if tuned >= flaml else 'NOT met'}.",
    ]
    return lines


def _header(title: str, results: dict, machine: list[str], command: str) -> list[str]:
    minutes = sum(r["seconds"] for r in results.values()) / 60
    lines = [
        f"## {title}",
        "",
        *machine,
        "",
        f"Command: {command} ({minutes:.0f} min over the tables). Every "
        "system runs on one thread; decisions: docs/architecture.md, "
        "'Model defaults, as measured'.",
        "",
        "| table | source (package file) | task | train / test rows | covers | measured "
        "(minutes, 1-min load at start / end) |",
        "|---|---|---|---|---|---|",
    ]
    for result in results.values():
        t = result["table"]
        load = result.get("load")
        loads = f"{load[0][0]:.1f} / {load[1][0]:.1f}" if load else "load not recorded"
        lines.append(
            f"| {t['name']} | {t['source']} | {t['task']} | {t['train_rows']} / "
            f"{t['test_rows']} | {t['covers']} | {result.get('measured', '-')} "
            f"({result['seconds'] / 60:.1f} min, {loads}) |"
        )
    return [*lines, ""]


def section(results: dict, machine: list[str], command: str, budget: float) -> str:
    """The systems the targets compare, and the targets."""
    lines = _header("Models", results, machine, command)
    lines += [*_checks(results), "", *_systems(results, budget), ""]
    return "\n".join(lines)


def design_section(results: dict, machine: list[str], command: str, budget: float) -> str:
    """The measurements the defaults were chosen from."""
    lines = _header("Models: design measurements", results, machine, command)
    search = _systems(results, budget, "search")
    if search:
        lines += ["The recipes behind `auto` and the default search space:", "", *search, ""]
    for part in (_auto, _onnx, _imbalance, _intervals, _leakage):
        lines += [*part(results), ""]
    return "\n".join(lines)
