"""`make retrain`: harvest -> challenger (in a worktree) -> compare -> decision -> promote.

Exit codes: 0 the challenger won and is in `prod` (or, with `--no-promote`, is ready on its
branch), 3 the champion stays, 1 the run failed (one `error:` line).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tabml import paths, yaml_io
from tabml.data.production import ID, TIME, comparison_split
from tabml.data.profile import load_profile
from tabml.model.gates import dataset_gates
from tabml.params import load_params
from tabml.registry import check_pipeline_committed
from tabml.retrain import challenger as challengers
from tabml.retrain import promotion
from tabml.retrain.champion import STAGE, load_champion
from tabml.retrain.compare import KEEP, PROMOTE, Verdict, decide, score
from tabml.retrain.decision_files import DECISION_DIR, write_decision
from tabml.retrain.harvest import PRODUCTION_FILE, without_production_pin
from tabml.retrain.paired_rule import paired_rule
from tabml.scoring.model import load_packaged
from tabml.tools import git

PROMOTED, KEPT = 0, 3


@dataclass
class RetrainResult:
    code: int
    lines: list[str]
    decision: dict | None = None


def _dvc_md5(dvc_file: Path) -> str:
    return yaml_io.load(dvc_file.read_text())["outs"][0]["md5"]


def _ingested_md5(tree: Path) -> str | None:
    """md5 of the challenger's data/raw/source.csv (original + older production rows)."""
    lock = yaml_io.load((tree / "dvc.lock").read_text())
    outs = lock["stages"]["ingest"]["outs"]
    return next((o["md5"] for o in outs if o["path"] == str(paths.SOURCE_DATA)), None)


def _test_metrics(tree: Path) -> dict:
    import json

    metrics = json.loads((tree / paths.METRICS).read_text())
    return {k: metrics[k] for k in ("accuracy", "f1_macro", "log_loss") if k in metrics}


def harvest_changes(root: Path, profile: str) -> set[str]:
    """The workspace files a `make harvest` changed, when it changed nothing else in them
    (the profile differs from HEAD's in its `production:` pin only): a retrain may ignore
    them, since it harvests again on its own branch. Empty otherwise."""
    profile_file = f"{paths.CONFIGS}/{profile}.yaml"
    dvc_file = f"{PRODUCTION_FILE}.dvc"
    workspace = (root / profile_file).read_text() if (root / profile_file).exists() else ""
    committed = git(["show", f"HEAD:{profile_file}"], root, check=False)
    if without_production_pin(workspace) != without_production_pin(committed):
        return set()
    return {profile_file, str(PRODUCTION_FILE), dvc_file}


def put_back_harvest(root: Path, files: set[str]) -> None:
    """Before the winner comes in: the workspace's harvest files as HEAD has them (the
    winner's commit holds a harvest of the same logs)."""
    for name in sorted(files):
        if name.endswith(".dvc") or name.endswith(".yaml"):
            if git(["ls-files", "--", name], root).strip():
                git(["checkout", "HEAD", "--", name], root)
            else:
                (root / name).unlink(missing_ok=True)


def run_retrain(
    root: Path,
    requests: Path,
    feedback: Path,
    assignments: list[str] = (),
    version: str | None = None,
    promote_it: bool = True,
    out_dir: Path = DECISION_DIR,
    exclude: tuple[str, ...] = (),
    progress: Callable[[str], None] = print,
    paired: str | None = None,
) -> RetrainResult:
    root = root.resolve()
    started = time.monotonic()

    def say(what: str) -> None:
        minutes, seconds = divmod(int(time.monotonic() - started), 60)
        progress(f"retrain [{minutes}m{seconds:02d}s]: {what}")

    job = promotion.pending(root)
    if job is not None:  # a killed run got as far as the promotion: finish it
        return RetrainResult(PROMOTED, [f"retrain: resumed: {promotion.finish(root, job)}"])
    champion = load_champion(root)
    say(f"champion: {champion.version} ({champion.model.version}) in {STAGE}")
    harvested_here = harvest_changes(root, load_params(root / paths.PARAMS).data.profile)
    check_pipeline_committed(harvested_here)
    try:
        say("step 1/4: harvest the labelled production rows into the challenger's worktree")
        tree, harvested = challengers.prepare(
            root, requests, feedback, list(assignments), tuple(exclude)
        )
        lines = [harvested.summary()]
        params = load_params(tree / paths.PARAMS)  # the challenger's (overrides applied)
        rows = pd.read_parquet(tree / PRODUCTION_FILE)
        older, newest = comparison_split(
            rows, params.retrain.comparison_share, params.retrain.min_comparison_rows
        )
        profile = load_profile(params.data.profile, tree / paths.CONFIGS)
        # A row the champion trained on (its label arrived late) is no fair comparison row.
        seen = newest[ID].isin(champion.trained_ids).to_numpy()
        newest = newest[~seen].reset_index(drop=True)
        data = {
            "path": str(PRODUCTION_FILE),
            "md5": _dvc_md5(tree / f"{PRODUCTION_FILE}.dvc"),
            "sha256": harvested.sha256,
            "rows": len(rows),
            "rejected": len(harvested.rejects),
            "rejects": harvested.rejects[:20],
            "training_rows": len(older),
            "comparison_rows": len(newest),
            "comparison_rows_the_champion_trained_on": int(seen.sum()),
            "comparison_from": newest[TIME].min().isoformat() if len(newest) else None,
            "original": {"path": profile.source.path, "sha256": profile.source.sha256},
            "labels_by_source": harvested.by_source,
            "excluded_sources": list(harvested.excluded),
        }
        decision = {
            "params": params.retrain.model_dump(),
            # every params.yaml override the challenger was built with (make retrain SET=...)
            "overrides": list(assignments),
            "data": data,
            "champion": {
                "version": champion.version,
                "model_version": champion.model.version,
                "comparison": {},
            },
            "challenger": {"branch": None, "model_version": None, "comparison": {}},
            "registered": None,  # the version registered and promoted, if any
        }
        if len(rows) < params.retrain.min_comparison_rows:
            reason = (
                f"only {len(rows)} labelled production rows, retrain.min_comparison_rows is "
                f"{params.retrain.min_comparison_rows}: no comparison, no challenger trained"
            )
            return _finish(decision, KEEP, [reason], out_dir, lines)
        say("step 2/4: train the challenger (dvc repro in the worktree)")
        made = challengers.train(tree, harvested, params.data.profile, say)
        decision["challenger"]["branch"] = made.branch
        decision["challenger"]["test"] = _test_metrics(tree)
        data["training_data_md5"] = _ingested_md5(tree)
        if made.gate_failures:
            reasons = [f"the challenger fails the registry gate: {f}" for f in made.gate_failures]
            return _finish(decision, KEEP, reasons, out_dir, lines)
        say(f"step 3/4: score both models on the newest {len(newest)} labelled rows")
        new = load_packaged(tree / paths.ONNX_MODEL, tree / paths.BENTO_ARCHIVE)
        seed = params.retrain.bootstrap_seed
        decision["champion"]["comparison"] = score(champion.model, newest, profile, seed)
        decision["challenger"]["comparison"] = score(new, newest, profile, seed)
        decision["challenger"]["model_version"] = new.version
        gates = dataset_gates(params, profile).gates
        verdict = decide(
            decision["champion"]["comparison"],
            decision["challenger"]["comparison"],
            params.retrain,
            gates,
        )
        if paired:  # also a paired interval on the same rows (retrain/paired_rule.py)
            metric = params.retrain.primary_metric if paired in ("1", "yes", "true") else paired
            ok, line = paired_rule(champion.model, new, newest, profile.target, metric, seed)
            if not ok:
                verdict = Verdict(KEEP, [line, *verdict.reasons])
            else:
                verdict.reasons.append(line)
        if verdict.decision == PROMOTE and not promote_it:
            verdict.reasons.append(f"not promoted (--no-promote): the challenger is {made.branch}")
        result = _finish(decision, verdict.decision, verdict.reasons, out_dir, lines)
        if verdict.decision != PROMOTE:
            return result
        if not promote_it:
            lines.append(f"retrain: not promoted (--no-promote): the challenger is {made.branch}")
            return RetrainResult(PROMOTED, lines, decision)
        say("step 4/4: register and promote the challenger")
        commit = challengers.git(["rev-parse", made.branch], root).strip()
        chosen = version or promotion.next_version(root)
        put_back_harvest(root, harvested_here)
        job = promotion.start(root, commit, chosen)
    finally:
        challengers.remove_worktree(root)
    lines.append(f"retrain: {promotion.finish(root, job)}")
    decision["registered"] = {"version": chosen, "stage": STAGE}
    write_decision(decision, out_dir)
    lines.append(f"retrain: registered {chosen} ({new.version}) and promoted it to {STAGE}")
    return RetrainResult(PROMOTED, lines, decision)


def _finish(decision: dict, verdict: str, reasons: list[str], out_dir: Path, lines: list[str]):
    decision["verdict"], decision["reasons"] = verdict, reasons
    json_path, md_path = write_decision(decision, out_dir)
    lines += [f"  - {r}" for r in reasons]
    word = "the challenger wins" if verdict == PROMOTE else "the champion stays"
    lines.append(f"retrain: {verdict.upper()}: {word} -> {md_path}, {json_path}")
    return RetrainResult(PROMOTED if verdict == PROMOTE else KEPT, lines, decision)
