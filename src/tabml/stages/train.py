"""Stage train: fit the chosen estimator family; save the pipeline and the training range."""

import pandas as pd

from tabml import atomic, paths
from tabml.dataset import load_profile
from tabml.params import load_params
from tabml.stages import run
from tabml.train import fit_model
from tabml.training_range import training_range


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    train = pd.read_parquet(paths.TRAIN_DATA)
    pipeline = fit_model(train, profile, params.train)
    atomic.write_joblib(paths.MODEL, pipeline)
    atomic.write_json(paths.TRAINING_PROFILE, training_range(train, profile))
    print(f"train: {params.train.model} fitted on {len(train)} rows -> {paths.MODEL}")


if __name__ == "__main__":
    run(main)
