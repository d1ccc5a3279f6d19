"""Training-range warnings: values inside the domain rules but outside what the model saw.

Computed from the normalised model inputs (`tabml.scoring.inputs.Inputs`), so a date's parts
and a converted value warn exactly as the model sees them.
"""

import numpy as np

from tabml.scoring.inputs import Inputs
from tabml.scoring.metadata import TrainingStatistics


class RangeWarnings:
    """The training statistics as a fast warning checker."""

    def __init__(self, stats: TrainingStatistics):
        self.numeric = {n: (s.min, s.max) for n, s in stats.numeric.items()}
        self.categories = {n: frozenset(s.categories) for n, s in stats.categorical.items()}

    def for_inputs(self, inputs: Inputs) -> list[list[dict]]:
        """Per row, its warnings (missing values never warn). Plain Python over lists: a
        request holds a few records, and numpy's per-call cost would exceed the work."""
        numeric = [
            (name, low, high, _plain(inputs.numbers[name]))
            for name, (low, high) in self.numeric.items()
            if name in inputs.numbers
        ]
        categorical = [
            (name, seen, _plain(inputs.texts[name]), _plain(inputs.missing[name]))
            for name, seen in self.categories.items()
            if name in inputs.texts
        ]
        found: list[list[dict]] = []
        for i in range(inputs.rows):
            row = []
            for name, low, high, values in numeric:
                value = values[i]
                if not low <= value <= high and value == value:  # NaN (missing) never warns
                    row.append(
                        {
                            "feature": name,
                            "value": value,
                            "training_range": [low, high],
                            "message": f"{name}={value} is outside the training range "
                            f"[{low}, {high}]",
                        }
                    )
            for name, seen, texts, absent in categorical:
                value = texts[i]
                if value not in seen and not absent[i]:
                    row.append(
                        {
                            "feature": name,
                            "value": value,
                            "training_categories": sorted(seen),
                            "message": f"{name}={value!r} was not seen in training",
                        }
                    )
            found.append(row)
        return found


def _plain(column) -> list:
    return column.tolist() if isinstance(column, np.ndarray) else column
