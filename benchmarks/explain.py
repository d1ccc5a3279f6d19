"""`python -m benchmarks.explain`: what `"explain": true` costs a one-record request, in process.

For the packaged model (models/model.onnx + the bento's training statistics) and, for
comparison, the other two families fitted and converted here on the same split: the model
answers one record with and without its explanation, `--repetitions` times each, the two
interleaved (so both see the same machine load). The medians' difference is the price of
explaining; the target is at most 1 ms. Results go to docs/benchmarks.md (section `explain`).
"""

import argparse
import os
import statistics
import time

import pandas as pd

from benchmarks.support import ROOT, machine_description, write_section
from tabml.scoring.explain import Explainer, add_explanations
from tabml.scoring.model import PackagedModel, load_packaged

TARGET_MS = 1.0
RECORD = {"island": "Biscoe", "bill_length_mm": 48.6, "bill_depth_mm": 16.0,
          "flipper_length_mm": 230.0, "body_mass_g": 5800.0, "sex": "male"}  # fmt: skip


def classifiers() -> list[tuple[str, PackagedModel]]:
    """(name, model) for the packaged model and the other families, fitted on its data."""
    model = load_packaged(ROOT / "models/model.onnx", ROOT / "models/tabml_service.bento")
    family = model.metadata.params["train"]["model"]
    found = [(f"{family} (packaged)", model)]
    from tabml.data.profile import load_profile
    from tabml.model.train import fit_model
    from tabml.packaging.onnx_export import to_onnx_bytes
    from tabml.params import Params

    profile = load_profile("penguins", ROOT / "configs")
    train = pd.read_parquet(ROOT / "data/processed/train.parquet")
    for other in ("logistic_regression", "random_forest", "gradient_boosting"):
        if other != family:
            pipeline = fit_model(train, profile, Params().train.model_copy(update={"model": other}))
            onnx = to_onnx_bytes(pipeline, profile.features)
            found.append((other, PackagedModel(onnx, model.metadata, other)))
    return found


def measure(model: PackagedModel, repetitions: int) -> dict:
    """Median and p99 microseconds of one-record answers, without and with explanation."""
    explainer = Explainer(model)
    records = [RECORD]
    plain, explained = [], []
    for _ in range(50):  # warm-up: onnxruntime allocates on its first runs
        add_explanations(model.score(records), explainer.explain(model.inputs(records)))
    for _ in range(repetitions):
        start = time.perf_counter_ns()
        model.score(records)
        middle = time.perf_counter_ns()
        add_explanations(model.score(records), explainer.explain(model.inputs(records)))
        end = time.perf_counter_ns()
        plain.append((middle - start) / 1000)
        explained.append((end - middle) / 1000)

    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100)[98]

    return {
        "plain_median": statistics.median(plain),
        "plain_p99": p99(plain),
        "explain_median": statistics.median(explained),
        "explain_p99": p99(explained),
        "rows": len(explainer.masks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    args = parser.parse_args()

    load = os.getloadavg()
    rows = []
    for name, model in classifiers():
        r = measure(model, args.repetitions)
        extra = (r["explain_median"] - r["plain_median"]) / 1000
        rows.append(
            f"| {name} | {r['rows']} | {r['plain_median']:.0f} / {r['plain_p99']:.0f} | "
            f"{r['explain_median']:.0f} / {r['explain_p99']:.0f} | {extra:.3f} | "
            f"{'met' if extra <= TARGET_MS else '**not met**'} |"
        )
    lines = [
        "## Explanations",
        "",
        *machine_description(load),
        "",
        f"Command: `make bench-explain` (`python -m benchmarks.explain`; {args.repetitions:,}"
        " repetitions per model, with and without explanation interleaved; one record, "
        "in process: `PackagedModel.score` vs `PackagedModel.score` + `Explainer.explain` + "
        '`add_explanations`, what the service runs for `"explain": true`).',
        "",
        "| model | ONNX rows per explained record | without: median / p99 (µs) | "
        "with: median / p99 (µs) | extra at the median (ms) | target <= 1 ms |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "p99 moves with the machine's load (see the load average); the medians are the target's.",
        "",
        "Requests without `explain` run exactly the code they ran before (the service checks "
        "the flag and calls nothing else), so their cost is the left column.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        write_section("explain", text)


if __name__ == "__main__":
    main()
