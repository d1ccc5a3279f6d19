"""Score validated records: label, class probabilities and training-range warnings per record.

Shared by the online service and batch scoring; needs only the ONNX model and the metadata
saved with it (no BentoML, no scikit-learn, no pickle).
"""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from tabml.scoring.range_warnings import TrainingStats
from tabml.scoring.transforms import add_date_parts_to_records


class Classifier(Protocol):
    classes: list[str]

    def feeds_from_records(self, records: Sequence[Mapping[str, Any]]) -> dict: ...

    def predict(self, feeds: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]: ...


class Scorer:
    """Records -> one answer per record, in order: `{target: label, probabilities, warnings}`."""

    def __init__(
        self,
        classifier: Classifier,
        training_stats: TrainingStats,
        target: str,
        dates: Mapping[str, Sequence[str]] | None = None,
    ):
        self.classifier = classifier
        self.training_stats = training_stats
        self.target = target
        self.dates = dict(dates or {})  # date column -> the numbers the model sees

    def score(self, records: Sequence[Mapping[str, Any]]) -> list[dict]:
        if self.dates:  # the model sees the derived numbers; so do the range warnings
            records = add_date_parts_to_records(records, self.dates)
        labels, proba = self.classifier.predict(self.classifier.feeds_from_records(records))
        classes = self.classifier.classes
        warnings_for = self.training_stats.warnings_for
        # One tolist() per batch: a numpy row per record costs more than its dict.
        return [
            {
                self.target: str(label),
                "probabilities": dict(zip(classes, row, strict=True)),
                "warnings": warnings_for(record),
            }
            for record, label, row in zip(records, labels.tolist(), proba.tolist(), strict=True)
        ]
