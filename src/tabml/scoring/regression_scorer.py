"""Score validated records with a regression model: value, prediction interval and warnings.

The regression twin of `tabml.scoring.scorer.Scorer`: same inputs, one model call per batch
and one dict per record. The interval is the prediction plus/minus the split-conformal
half-width saved with the model (docs/regression.md).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from tabml.scoring.onnx_regressor import OnnxRegressor
from tabml.scoring.range_warnings import TrainingStats


class RegressionScorer:
    """Records -> one answer per record, in order: `{target: value, interval, warnings}`."""

    def __init__(
        self,
        regressor: OnnxRegressor,
        training_stats: TrainingStats,
        target: str,
        half_width: float,
    ):
        self.regressor = regressor
        self.training_stats = training_stats
        self.target = target
        self.half_width = half_width

    def score(self, records: Sequence[Mapping[str, Any]]) -> list[dict]:
        values = self.regressor.predict(self.regressor.feeds_from_records(records))
        # float64 before the arithmetic: the interval ends are exactly value -/+ half-width.
        values = values.astype("float64")
        lows, highs = (values - self.half_width).tolist(), (values + self.half_width).tolist()
        warnings_for = self.training_stats.warnings_for
        return [
            {self.target: value, "interval": [low, high], "warnings": warnings_for(record)}
            for record, value, low, high in zip(records, values.tolist(), lows, highs, strict=True)
        ]


def regression_scorer(onnx_bytes: bytes, metadata: Mapping[str, Any]) -> RegressionScorer:
    """The scorer of a packaged regression model, from its ONNX bytes and model metadata."""
    return RegressionScorer(
        OnnxRegressor(onnx_bytes),
        TrainingStats(metadata["training_stats"]),
        metadata["target"],
        float(metadata["prediction_interval"]["half_width"]),
    )
