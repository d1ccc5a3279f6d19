"""The package stage's edge check: a graph the edge bundle cannot run is refused in one line,
and every operator the check lets through is in the shipped onnxruntime-web WASM binary."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from tabml.packaging.edge_graph import SUPPORTED_OPS, EdgeGraphError, check_edge_graph
from testkit import edge


def _graph(node: onnx.NodeProto, output: onnx.ValueInfoProto, domain: str = "") -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph([node], "g", [x], [output])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    return helper.make_model(graph, opset_imports=opsets).SerializeToString()


def test_a_zipmap_graph_is_refused():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.1, 0.9]], dtype=np.float32)
    fitted = LogisticRegression().fit(X, ["a", "b", "a", "b"])
    with_zipmap = to_onnx(fitted, X[:1]).SerializeToString()
    with pytest.raises(EdgeGraphError, match=r"ZipMap.*zipmap"):
        check_edge_graph(with_zipmap)
    no_zipmap = to_onnx(fitted, X[:1], options={id(fitted): {"zipmap": False}})
    check_edge_graph(no_zipmap.SerializeToString())


def test_an_operator_outside_the_list_is_refused_by_name():
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])
    graph = _graph(helper.make_node("Einsum", ["x", "x"], ["y"], equation="ij,ij->ij"), out)
    with pytest.raises(EdgeGraphError, match=r"operators .* not known to run: Einsum"):
        check_edge_graph(graph)


def test_a_non_tensor_output_is_refused():
    out = helper.make_tensor_sequence_value_info("y", TensorProto.FLOAT, None)
    graph = _graph(helper.make_node("SequenceConstruct", ["x"], ["y"]), out)
    with pytest.raises(EdgeGraphError, match="'y' is not a tensor"):
        check_edge_graph(graph)


@pytest.mark.integration  # npm ci on a fresh clone
def test_every_supported_operator_is_in_the_shipped_wasm_binary():
    reason = edge.node_missing()
    if reason:
        pytest.skip(reason)
    # Kernels are registered by name: a name absent from the binary is an operator it lacks.
    binary = (edge.install_runtime() / "ort-wasm-simd-threaded.wasm").read_bytes()
    missing = sorted(op for _, op in SUPPORTED_OPS if op.encode() not in binary)
    assert not missing
    assert b"NoSuchOperatorAnywhere" not in binary  # the check can fail


def test_a_bundle_without_the_runtime_installed_is_one_line(tmp_path):
    from tabml.packaging.edge_bundle import EdgeBundleError, write_bundle
    from testkit.models import bare_metadata

    class Model:  # write_bundle checks the graph and the runtime before reading the model
        metadata = bare_metadata()

    X = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    fitted = LogisticRegression().fit(X, ["a", "b"])
    graph = to_onnx(fitted, X[:1], options={id(fitted): {"zipmap": False}}).SerializeToString()
    with pytest.raises(EdgeBundleError, match=r"onnxruntime-web is not installed .*make edge"):
        write_bundle(Model(), graph, tmp_path, tmp_path / "no-runtime", tmp_path / "out")
    assert not (tmp_path / "out").exists()
