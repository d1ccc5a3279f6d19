"""Which ONNX graphs the edge bundle (onnxruntime-web, plain WASM build) can run.

The plain WASM build of onnxruntime-web carries the CPU kernels, ONNX-ML's included; its
WebGPU build does not (`No Op registered for OneHotEncoder`), and ZipMap's sequence-of-maps
output cannot be read from JavaScript. `SUPPORTED_OPS` is the explicit list of operators the
bundle is known to run (each name is checked against the shipped `.wasm` file by
tests/unit/test_edge_graph.py); `check_edge_graph` refuses anything else at package time, so a
model that would not load in a browser is never packaged.
"""

import onnx

from tabml.errors import TabmlError

# (domain, op type): "" is the default ONNX domain, ai.onnx.ml the classical-ML operators
# skl2onnx emits for scikit-learn pipelines.
SUPPORTED_OPS = frozenset(
    {("", op) for op in (
        "Abs", "Add", "ArgMax", "Cast", "Clip", "Concat", "Div", "Exp", "Flatten", "Gather",
        "Gemm", "Identity", "Log", "MatMul", "Max", "Mul", "Neg", "ReduceSum", "Reshape",
        "Shape", "Sigmoid", "Slice", "Softmax", "Sqrt", "Squeeze", "Sub", "Sum", "Transpose",
        "Unsqueeze", "Where", "Equal", "Less", "Greater", "Not", "And", "Or", "ReduceMax",
        "ReduceMean", "Pow", "Reciprocal", "ConstantOfShape", "Constant",
    )}
    | {("ai.onnx.ml", op) for op in (
        "ArrayFeatureExtractor", "Binarizer", "CategoryMapper", "FeatureVectorizer", "Imputer",
        "LabelEncoder", "LinearClassifier", "LinearRegressor", "Normalizer", "OneHotEncoder",
        "Scaler", "TreeEnsembleClassifier", "TreeEnsembleRegressor",
    )}
    | {("ai.onnx.ml", "TreeEnsemble")}
)  # fmt: skip
TENSOR_TYPES = ("tensor_type",)


class EdgeGraphError(TabmlError):
    """An ONNX graph the edge bundle's runtime cannot run or JavaScript cannot read."""


def graph_ops(model: onnx.ModelProto) -> set[tuple[str, str]]:
    """Every (domain, op type) of the graph and its functions' bodies."""
    nodes = list(model.graph.node)
    for function in model.functions:
        nodes += list(function.node)
    return {("" if n.domain == "ai.onnx" else n.domain, n.op_type) for n in nodes}


def check_edge_graph(onnx_bytes: bytes) -> None:
    """Refuse a graph the edge runtime cannot run: ZipMap, non-tensor outputs, other ops.

    Raises:
        EdgeGraphError: one line naming what is in the way.
    """
    model = onnx.load_from_string(onnx_bytes)
    ops = graph_ops(model)
    if ("ai.onnx.ml", "ZipMap") in ops:
        raise EdgeGraphError(
            "the ONNX graph has a ZipMap (probabilities as a list of maps, which JavaScript "
            "cannot read): convert with options {'zipmap': False}"
        )
    for output in model.graph.output:
        if output.type.WhichOneof("value") not in TENSOR_TYPES:
            raise EdgeGraphError(
                f"ONNX output {output.name!r} is not a tensor: the edge runtime (onnxruntime-web) "
                "reads tensors only"
            )
    missing = sorted(f"{d}:{op}" if d else op for d, op in ops - SUPPORTED_OPS)
    if missing:
        raise EdgeGraphError(
            f"the ONNX graph uses operators the edge bundle (onnxruntime-web, plain WASM) is not "
            f"known to run: {', '.join(missing)} (tabml.packaging.edge_graph.SUPPORTED_OPS)"
        )
