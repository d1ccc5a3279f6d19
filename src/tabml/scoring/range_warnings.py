"""Training-range warnings: values inside the domain rules but outside what the model saw."""

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd


class TrainingStats:
    """The training statistics (models/training_stats.json) as a fast warning checker."""

    def __init__(self, stats: Mapping[str, Any]):
        self.numeric = {n: (s["min"], s["max"]) for n, s in stats["numeric"].items()}
        self.categories = {n: frozenset(s["categories"]) for n, s in stats["categorical"].items()}

    def warnings_for(self, record: Mapping[str, Any]) -> list[dict]:
        """Warnings for one record: features inside the domain rules but unseen in training."""
        found = []
        for name, (low, high) in self.numeric.items():
            value = record.get(name)
            if value is not None and not math.isnan(value) and not low <= value <= high:
                found.append(
                    {
                        "feature": name,
                        "value": value,
                        "training_range": [low, high],
                        "message": f"{name}={value} is outside the training range [{low}, {high}]",
                    }
                )
        for name, seen in self.categories.items():
            value = record.get(name)
            if value is not None and value not in seen:
                found.append(
                    {
                        "feature": name,
                        "value": value,
                        "training_categories": sorted(seen),
                        "message": f"{name}={value!r} was not seen in training",
                    }
                )
        return found

    def warnings_for_frame(self, frame: pd.DataFrame) -> list[list[dict]]:
        """Warnings per row of a frame (missing values never warn)."""
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        return [self.warnings_for(row) for row in rows]
