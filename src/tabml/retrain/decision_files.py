"""`reports/retrain/decision.json` and `decision.md`: both models' metrics on the comparison
rows, the data versions, the verdict and why. No timestamps or commit ids in the JSON: the
same data, code and params give the same bytes."""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tabml import atomic
from tabml.monitoring.contracts import checked, read_file

DECISION_DIR = Path("reports/retrain")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Side(_Record):
    """Champion or challenger: which model, and its metrics on the comparison rows."""

    version: str | None = None  # the champion's registry version
    branch: str | None = None  # the challenger's git branch
    model_version: str | None
    comparison: dict[str, float]
    test: dict[str, Any] | None = None  # the challenger's test-set metrics


class Registered(_Record):
    """The challenger's registry version, and the stage it was promoted to."""

    version: str
    stage: str


class RetrainDecision(_Record):
    """reports/retrain/decision.json: one definition, checked when written and read."""

    params: dict[str, Any]
    overrides: list[str]  # params.yaml values the challenger was built with (SET=...)
    data: dict[str, Any]  # the production rows, their labels by source and those left out
    champion: Side
    challenger: Side
    verdict: Literal["promote", "keep"]
    reasons: list[str]
    registered: Registered | None  # set once the winner is registered and promoted


def read_decision(path: Path) -> RetrainDecision:
    """A decision.json, validated."""
    return read_file(RetrainDecision, path)


def _row(name: str, metrics: dict) -> str:
    return (
        f"| {name} | {metrics['rows']} | {metrics['accuracy']:.4f} "
        f"({metrics['accuracy_low']:.4f}-{metrics['accuracy_high']:.4f}) | "
        f"{metrics['f1_macro']:.4f} ({metrics['f1_macro_low']:.4f}-"
        f"{metrics['f1_macro_high']:.4f}) | {metrics['log_loss']:.4f} |"
    )


def _sources(data: dict) -> str:
    counts = data.get("labels_by_source") or {}
    shown = ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
    left_out = data.get("excluded_sources") or []
    return shown + (f"; left out: {', '.join(left_out)}" if left_out else "")


def render(decision: dict) -> str:
    """The decision as markdown (what a pull request or a reviewer reads)."""
    champion, challenger = decision["champion"], decision["challenger"]
    data = decision["data"]
    lines = [
        f"# Retrain decision: {decision['verdict'].upper()}",
        "",
        f"- champion: {champion['version']} (`{champion['model_version']}`), in `prod`",
        f"- challenger: branch `{challenger['branch']}` (`{challenger['model_version']}`)",
        f"- production data: `{data['path']}` md5 `{data['md5']}` ({data['rows']} labelled "
        f"rows, {data['rejected']} rejected by the schema; labels by source: "
        f"{_sources(data)})",
        f"- training: original data + the {data['training_rows']} older production rows; "
        f"comparison: the newest {data['comparison_rows']} (from {data['comparison_from']})",
        f"- original data sha256 `{data['original']['sha256']}`; the challenger's training "
        f"data (`data/raw/dataset.csv`) md5 `{data.get('training_data_md5')}`",
        "",
    ]
    if "accuracy" in champion["comparison"]:
        lines += [
            "| model | rows | accuracy (95% CI) | macro F1 (95% CI) | log loss |",
            "|---|---|---|---|---|",
            _row(f"champion {champion['version']}", champion["comparison"]),
            _row("challenger", challenger["comparison"]),
            "",
        ]
    lines += ["Why:", "", *(f"- {reason}" for reason in decision["reasons"]), ""]
    overrides = decision.get("overrides") or []
    lines.append(
        "Overrides (make retrain SET=...): "
        + (", ".join(f"`{o}`" for o in overrides) if overrides else "none")
    )
    registered = decision.get("registered")
    lines.append(
        f"Registered: {registered['version']}, promoted to `{registered['stage']}`"
        if registered
        else "Registered: nothing"
    )
    return "\n".join(lines) + "\n"


def write_decision(decision: dict, out_dir: Path = DECISION_DIR) -> tuple[Path, Path]:
    checked(RetrainDecision, decision, str(out_dir / "decision.json"))
    json_path = atomic.write_json(out_dir / "decision.json", decision)
    md_path = atomic.write_text(out_dir / "decision.md", render(decision))
    return json_path, md_path
