"""Evidently and NannyML on the logs `make bench-monitor` builds: run in .bench-venv-monitor.

    .bench-venv-monitor/bin/python benchmarks/monitor_peers.py TOOL REQUESTS FEEDBACK TRAIN.parquet

Not a tabml module (the bench venv has its own pandas < 3, no tabml): it reads the logs with
pyarrow as a user of these tools would, joins the labels (the label received last counts,
each prediction id once) and runs, with TOOL:

- `evidently`: Evidently's DataDriftPreset, all logged inputs against the training split
  (Evidently has no windows; what `make monitor` computes per window it computes once);
- `nannyml`: NannyML's CBPE (estimated accuracy, macro F1, ROC AUC per 1-day chunk, fitted
  on the labelled predictions of the first day) and its univariate drift per 1-day chunk
  (KS and chi-squared) against the training split.

Prints one JSON line: seconds per phase and rows. The caller measures the whole process and
turns the tools' usage reporting off (NannyML otherwise posts to segment.io).
"""

import json
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.json as pj

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g",
            "sex"]  # fmt: skip
CATEGORICAL = ["island", "sex"]


def read_log(directory: Path, columns: list[str]) -> pd.DataFrame:
    """Every regular JSON-lines file of a log directory (bad files skipped)."""
    tables = []
    for path in sorted(directory.glob("*.jsonl")):
        try:
            table = pj.read_json(path).flatten()
        except pa.ArrowInvalid:  # a file with a bad line: this simple reader skips it
            continue
        names = {c: c.removeprefix("inputs.").removeprefix("probabilities.")
                 for c in table.column_names}  # fmt: skip
        table = table.rename_columns([names[c] for c in table.column_names])
        tables.append(table.select([c for c in columns if c in table.column_names]))
    return pa.concat_tables(tables, promote_options="default").to_pandas()


def joined(requests: Path, feedback: Path, classes: list[str]) -> pd.DataFrame:
    predictions = read_log(requests, ["prediction_id", "timestamp", "predicted", *classes,
                                      *FEATURES])  # fmt: skip
    predictions = predictions.drop_duplicates("prediction_id", keep="first")
    labels = read_log(feedback, ["prediction_id", "label", "timestamp"])
    labels = labels.sort_values("timestamp", kind="stable").drop_duplicates(
        "prediction_id", keep="last"
    )
    frame = predictions.merge(labels[["prediction_id", "label"]], "left", on="prediction_id")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    return frame


def evidently(frame: pd.DataFrame, train: pd.DataFrame) -> None:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    report = Report([DataDriftPreset()])
    report.run(frame[FEATURES], train[FEATURES])


def nannyml(frame: pd.DataFrame, train: pd.DataFrame, classes: list[str]) -> None:
    import nannyml as nml

    first_day = frame["timestamp"] < frame["timestamp"].min() + pd.Timedelta("1D")
    reference = frame[first_day & frame["label"].notna()]
    estimator = nml.CBPE(
        problem_type="classification_multiclass",
        y_pred_proba={c: c for c in classes},
        y_pred="predicted",
        y_true="label",
        timestamp_column_name="timestamp",
        metrics=["roc_auc", "f1", "accuracy"],
        chunk_period="D",
    )
    estimator.fit(reference)
    estimator.estimate(frame[~first_day])
    drift = nml.UnivariateDriftCalculator(
        column_names=FEATURES,
        timestamp_column_name="timestamp",
        chunk_period="D",
        continuous_methods=["kolmogorov_smirnov"],
        categorical_methods=["chi2"],
    )
    training = train[FEATURES].assign(timestamp=frame["timestamp"].min())
    drift.fit(training)
    drift.calculate(frame)


def main() -> None:
    tool, requests, feedback, train_path = sys.argv[1], *map(Path, sys.argv[2:5])
    classes = ["Adelie", "Chinstrap", "Gentoo"]
    started = time.perf_counter()
    __import__(tool)  # its import apart (seconds for Evidently): not the work measured
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    frame = joined(requests, feedback, classes)
    train = pd.read_parquet(train_path)
    read_s = time.perf_counter() - started
    if tool == "evidently":
        evidently(frame, train)
    else:
        nannyml(frame, train, classes)
    print(json.dumps({"tool": tool, "rows": len(frame), "import_s": round(import_s, 1),
                      "read_join_s": round(read_s, 1),
                      "tool_s": round(time.perf_counter() - started - read_s, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
