"""Stage split: seeded train/test split of the validated rows (stratified for classification)."""

import pandas as pd

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.model.features import split_train_test
from tabml.model.tasks import training_task
from tabml.params import load_params
from tabml.stages import run


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    clean = pd.read_parquet(paths.CLEAN_DATA)
    stratify = training_task(profile).stratify  # a numeric target has no classes to keep
    train, test = split_train_test(
        clean, profile.target, params.split.test_size, params.split.seed, stratify
    )
    atomic.write_parquet(paths.TRAIN_DATA, train)
    atomic.write_parquet(paths.TEST_DATA, test)
    print(f"split: {len(train)} train rows, {len(test)} test rows")


if __name__ == "__main__":
    run(main)
