"""The naive batch script the benchmark compares with: what one writes without tabml.

pandas reads the whole CSV, the trained scikit-learn pipeline predicts, pandas writes the
labels and probabilities to SQLite with `DataFrame.to_sql`. No checks, no rejects, no ids.
Usage: python benchmarks/naive_batch.py rows.csv out.db
"""

import sqlite3
import sys

import joblib
import pandas as pd

if __name__ == "__main__":
    from tabml import paths
    from tabml.data.profile import load_profile
    from tabml.model.features import model_frame
    from tabml.params import load_params

    source, target = sys.argv[1:3]
    profile = load_profile(load_params(paths.PARAMS).data.profile, paths.CONFIGS)
    pipeline = joblib.load(paths.MODEL)
    frame = pd.read_csv(source)
    proba = pipeline.predict_proba(model_frame(frame, profile.features))
    out = pd.DataFrame(proba, columns=[f"proba_{c}" for c in pipeline.classes_])
    out.insert(0, "label", pipeline.classes_[proba.argmax(axis=1)])
    with sqlite3.connect(target) as conn:
        out.to_sql("predictions", conn, index=False)
