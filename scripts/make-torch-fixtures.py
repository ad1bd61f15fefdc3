#!/usr/bin/python3
"""Writes tests/fixtures/torch/: small MLPs exported by real PyTorch (torch.onnx.export), and what PyTorch
computes for them (outputs in f32, outputs and Jacobians by torch.autograd in f64 on the same weights).

Run with Debian's python3-torch and python3-onnx (torch 1.13.1, onnx 1.12; apt-get install python3-torch
python3-onnx): /usr/bin/python3 scripts/make-torch-fixtures.py. The files are committed; the tests only read them.
"""
import json
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torch")
torch.manual_seed(8)


class Custom(nn.Module):
    """x @ W.t() + b written by hand: MatMul + Add (with constant folding: Wᵀ as an initializer)."""

    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(n_hidden, n_in) / n_in**0.5)
        self.b1 = nn.Parameter(torch.randn(n_hidden) * 0.1)
        self.w2 = nn.Parameter(torch.randn(n_out, n_hidden) / n_hidden**0.5)
        self.b2 = nn.Parameter(torch.randn(n_out) * 0.1)

    def forward(self, x):
        return torch.tanh(x @ self.w1.t() + self.b1) @ self.w2.t() + self.b2


def lin(a, b):
    return nn.Linear(a, b)


MODELS = {
    # name: (module, input shape without batch, opset, constant folding, expected activations)
    "sequential": (nn.Sequential(lin(5, 7), nn.ReLU(), lin(7, 3), nn.Tanh(), lin(3, 1), nn.Sigmoid()), [5], 13, True,
                   ["relu", "tanh", "sigmoid"]),
    "activations": (nn.Sequential(lin(5, 7), nn.GELU(), lin(7, 7), nn.SiLU(), lin(7, 7), nn.LeakyReLU(0.1), lin(7, 7), nn.ELU(0.7),
                                  lin(7, 7), nn.Hardsigmoid(), lin(7, 7), nn.Softplus(), lin(7, 7), nn.Mish(), lin(7, 7), nn.ReLU6(),
                                  lin(7, 7), nn.SELU(), lin(7, 3), nn.Softmax(dim=-1)), [5], 17, True,
                    ["gelu", "swish", {"name": "leakyRelu", "alpha": 0.10000000149011612}, {"name": "elu", "alpha": 0.699999988079071},
                     {"name": "hardSigmoid", "slope": 0.1666666716337204, "offset": 0.5}, "softplus", "mish", "relu6", "selu", "softmax"]),
    "logsoftmax_flatten": (nn.Sequential(nn.Flatten(), lin(6, 4), nn.Tanh(), nn.Dropout(0.5), lin(4, 3), nn.LogSoftmax(dim=1)), [2, 3], 11, True,
                           ["tanh", "logSoftmax"]),
    "custom_folded": (Custom(3, 8, 2), [3], 13, True, ["tanh", "identity"]),
    "custom_unfolded": (Custom(3, 8, 2), [3], 13, False, ["tanh", "identity"]),
}

expected = {}
for name, (model, shape, opset, folding, acts) in MODELS.items():
    model.eval()
    x = torch.rand(4, *shape) * 2 - 1
    path = os.path.join(OUT, f"{name}.onnx")
    torch.onnx.export(model, x[:1], path, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=opset, do_constant_folding=folding)
    double = model.double()
    xd = x.double().reshape(4, -1)
    f64 = lambda v: double(v.reshape(1, *shape)).reshape(-1)
    rows = []
    with torch.no_grad():
        out32 = model.float()(x).reshape(4, -1)
    double = model.double()
    for r in range(4):
        j = torch.autograd.functional.jacobian(f64, xd[r])
        rows.append({"x": xd[r].tolist(), "output_f32": out32[r].tolist(), "output_f64": f64(xd[r]).tolist(), "jacobian_f64": j.reshape(-1).tolist()})
    model.float()
    expected[name] = {"activations": acts, "opset": opset, "constant_folding": folding, "rows": rows}

# Refused by the importer (the tanh form of GELU written out as Mul/Add/Tanh below opset 20): the test checks the error.
torch.onnx.export(nn.Sequential(lin(3, 4), nn.GELU(approximate="tanh"), lin(4, 2)), torch.randn(1, 3), os.path.join(OUT, "gelu_tanh_opset17.onnx"),
                  input_names=["x"], output_names=["y"], opset_version=17)

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump({"generator": f"torch {torch.__version__}", "models": expected}, f, indent=1)
print("wrote", ", ".join(sorted(os.listdir(OUT))))
