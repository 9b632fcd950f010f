"""Writes the tiny hand-built ONNX models the tests use to exercise "bring your own model":

    python3 training/make_fixtures.py          (writes models/fixtures/)

- window_peak.onnx: a user's own sensor scorer; input "x" [N, 4, 8] float32 -> "score" [N, 1] =
  max |x| over the window (ReduceMax of Abs): no training, so its output is known exactly.
- int64_input.onnx: the same graph with an int64 input, to test the dtype mismatch error.
"""
import os

import onnx
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(__file__), "..", "models", "fixtures")


def peak(dtype, path):
    nodes = []
    inp = "x"
    if dtype != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT))
        inp = "xf"
    nodes += [
        helper.make_node("Abs", [inp], ["a"]),
        helper.make_node("ReduceMax", ["a"], ["score"], axes=[1, 2], keepdims=0),
    ]
    # keepdims=0 over axes 1,2 gives [N]; reshape to [N, 1]
    nodes[-1].output[0] = "s0"
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1])
    nodes.append(helper.make_node("Reshape", ["s0", "shape"], ["score"]))
    g = helper.make_graph(
        nodes,
        "window_peak",
        [helper.make_tensor_value_info("x", dtype, ["N", 4, 8])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        [shape],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="retimuad-fixtures")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


os.makedirs(OUT, exist_ok=True)
peak(TensorProto.FLOAT, os.path.join(OUT, "window_peak.onnx"))
peak(TensorProto.INT64, os.path.join(OUT, "int64_input.onnx"))
print("fixtures written to", os.path.abspath(OUT))
