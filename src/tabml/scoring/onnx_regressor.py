"""The regression model at run time: an onnxruntime session that predicts one number per row.

Same file format, session settings and input feeds as `OnnxClassifier` (whose feeds it
inherits); the ONNX metadata says `tabml.task: regression` and lists no classes.
"""

from collections.abc import Mapping

import numpy as np

from tabml.scoring.onnx_classifier import OnnxClassifier

VALUE_OUTPUT = "variable"  # skl2onnx's name for a regressor's output


class OnnxRegressor(OnnxClassifier):
    """An ONNX regressor fed with records (mappings) or a model frame."""

    def predict(self, feeds: Mapping[str, np.ndarray]) -> np.ndarray:
        """Predicted values [N] (float32).

        A single row is scored as a batch of two, as in `OnnxClassifier.predict`: a row's value
        must not depend on which rows it was scored with.
        """
        rows = len(next(iter(feeds.values())))
        if rows == 1:
            feeds = {name: np.repeat(value, 2, axis=0) for name, value in feeds.items()}
        (values,) = self.session.run([VALUE_OUTPUT], dict(feeds))
        return values.reshape(-1)[:rows]
