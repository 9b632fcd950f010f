"""Trains RETIMU-AD's three small models on the simulator's normal data and exports them to ONNX.

    python3 training/train.py --data training/.work --out models

Reads the float32 sets written by training/export-data.ts, trains with numpy (hand-written
forward/backward passes and Adam; see README.md for why not PyTorch), calibrates a threshold on
held-out normal data, checks separation on faulty data, and writes per model:
  models/<name>.onnx       the network (opset 17, dynamic batch axis)
  models/<name>.json       metadata: input/output names and shapes, input preparation with its
                           normalisation statistics, output->score mapping, calibrated threshold,
                           training figures, and a reference input/output pair for parity tests.

Every network is built from layers whose ONNX form is exact: a "patch" convolution (kernel ==
stride, so each output position sees one disjoint block: im2col is a reshape and the gradient is a
matrix product), its transposed twin, dense layers (Gemm) and ReLU.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20240101


# ---------------------------------------------------------------- layers
class PatchConv:
    """Conv with kernel == stride over [N, C, H, W] (1-D: H == 1, exported as Conv1d)."""

    def __init__(self, rng, cin, cout, kh, kw, one_d=False):
        self.cin, self.cout, self.kh, self.kw, self.one_d = cin, cout, kh, kw, one_d
        fan = cin * kh * kw
        self.p = {"W": rng.normal(0, np.sqrt(2.0 / fan), (fan, cout)).astype(np.float32), "b": np.zeros(cout, np.float32)}

    def fwd(self, x):
        n, c, h, w = x.shape
        hb, wb = h // self.kh, w // self.kw
        self.shape = x.shape
        blocks = x.reshape(n, c, hb, self.kh, wb, self.kw).transpose(0, 2, 4, 1, 3, 5).reshape(n * hb * wb, -1)
        self.blocks = blocks
        y = blocks @ self.p["W"] + self.p["b"]
        return y.reshape(n, hb, wb, self.cout).transpose(0, 3, 1, 2)

    def bwd(self, dy):
        n, c, h, w = self.shape
        hb, wb = h // self.kh, w // self.kw
        d2 = dy.transpose(0, 2, 3, 1).reshape(n * hb * wb, self.cout)
        self.g = {"W": self.blocks.T @ d2, "b": d2.sum(0)}
        db = d2 @ self.p["W"].T
        return db.reshape(n, hb, wb, c, self.kh, self.kw).transpose(0, 3, 1, 4, 2, 5).reshape(n, c, h, w)

    def onnx(self, name, inp, out, inits, nodes):
        w = self.p["W"].T.reshape(self.cout, self.cin, self.kh, self.kw)
        k = [self.kh, self.kw]
        if self.one_d:
            w = w[:, :, 0, :]
            k = [self.kw]
        inits += [numpy_helper.from_array(w, f"{name}.W"), numpy_helper.from_array(self.p["b"], f"{name}.b")]
        nodes.append(helper.make_node("Conv", [inp, f"{name}.W", f"{name}.b"], [out], name=name, kernel_shape=k, strides=k))


class PatchConvT:
    """Transposed conv with kernel == stride: [N, F, Hb, Wb] -> [N, C, Hb*kh, Wb*kw]."""

    def __init__(self, rng, cin, cout, kh, kw, one_d=False):
        self.cin, self.cout, self.kh, self.kw, self.one_d = cin, cout, kh, kw, one_d
        self.p = {"W": rng.normal(0, np.sqrt(1.0 / cin), (cin, cout * kh * kw)).astype(np.float32), "b": np.zeros(cout, np.float32)}

    def fwd(self, z):
        n, f, hb, wb = z.shape
        self.shape = z.shape
        z2 = z.transpose(0, 2, 3, 1).reshape(n * hb * wb, f)
        self.z2 = z2
        y = (z2 @ self.p["W"]).reshape(n, hb, wb, self.cout, self.kh, self.kw).transpose(0, 3, 1, 4, 2, 5)
        return y.reshape(n, self.cout, hb * self.kh, wb * self.kw) + self.p["b"][None, :, None, None]

    def bwd(self, dy):
        n, f, hb, wb = self.shape
        d2 = dy.reshape(n, self.cout, hb, self.kh, wb, self.kw).transpose(0, 2, 4, 1, 3, 5).reshape(n * hb * wb, -1)
        self.g = {"W": self.z2.T @ d2, "b": dy.sum(axis=(0, 2, 3))}
        dz = d2 @ self.p["W"].T
        return dz.reshape(n, hb, wb, f).transpose(0, 3, 1, 2)

    def onnx(self, name, inp, out, inits, nodes):
        w = self.p["W"].reshape(self.cin, self.cout, self.kh, self.kw)
        k = [self.kh, self.kw]
        if self.one_d:
            w = w[:, :, 0, :]
            k = [self.kw]
        inits += [numpy_helper.from_array(w, f"{name}.W"), numpy_helper.from_array(self.p["b"], f"{name}.b")]
        nodes.append(helper.make_node("ConvTranspose", [inp, f"{name}.W", f"{name}.b"], [out], name=name, kernel_shape=k, strides=k))


class Dense:
    def __init__(self, rng, nin, nout, relu_after=True):
        scale = np.sqrt(2.0 / nin) if relu_after else np.sqrt(1.0 / nin)
        self.p = {"W": rng.normal(0, scale, (nin, nout)).astype(np.float32), "b": np.zeros(nout, np.float32)}

    def fwd(self, x):
        self.x = x
        return x @ self.p["W"] + self.p["b"]

    def bwd(self, dy):
        self.g = {"W": self.x.T @ dy, "b": dy.sum(0)}
        return dy @ self.p["W"].T

    def onnx(self, name, inp, out, inits, nodes):
        inits += [numpy_helper.from_array(self.p["W"], f"{name}.W"), numpy_helper.from_array(self.p["b"], f"{name}.b")]
        nodes.append(helper.make_node("Gemm", [inp, f"{name}.W", f"{name}.b"], [out], name=name))


class Relu:
    p: dict = {}

    def fwd(self, x):
        self.m = x > 0
        return x * self.m

    def bwd(self, dy):
        return dy * self.m

    def onnx(self, name, inp, out, inits, nodes):
        nodes.append(helper.make_node("Relu", [inp], [out], name=name))


class Flatten:
    p: dict = {}

    def fwd(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def bwd(self, dy):
        return dy.reshape(self.shape)

    def onnx(self, name, inp, out, inits, nodes):
        nodes.append(helper.make_node("Flatten", [inp], [out], name=name, axis=1))


class Unflatten:
    p: dict = {}

    def __init__(self, shape, onnx_shape=None):
        self.shape = tuple(shape)
        self.onnx_shape = tuple(onnx_shape) if onnx_shape is not None else self.shape

    def fwd(self, x):
        return x.reshape((x.shape[0],) + self.shape)

    def bwd(self, dy):
        return dy.reshape(dy.shape[0], -1)

    def onnx(self, name, inp, out, inits, nodes):
        inits.append(numpy_helper.from_array(np.array((-1,) + self.onnx_shape, np.int64), f"{name}.shape"))
        nodes.append(helper.make_node("Reshape", [inp, f"{name}.shape"], [out], name=name))


class Net:
    def __init__(self, layers):
        self.layers = layers

    def fwd(self, x):
        for l in self.layers:
            x = l.fwd(x)
        return x

    def bwd(self, dy):
        for l in reversed(self.layers):
            dy = l.bwd(dy)

    def params(self):
        return [(l, k) for l in self.layers for k in l.p]

    def count(self):
        return int(sum(l.p[k].size for l, k in self.params()))

    def to_onnx(self, path, in_name, in_shape, out_name, out_shape, doc):
        inits, nodes = [], []
        cur = in_name
        for i, l in enumerate(self.layers):
            nxt = out_name if i == len(self.layers) - 1 else f"t{i}"
            l.onnx(f"l{i}_{type(l).__name__.lower()}", cur, nxt, inits, nodes)
            cur = nxt
        g = helper.make_graph(
            nodes,
            doc,
            [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, ["N"] + list(in_shape))],
            [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N"] + list(out_shape))],
            inits,
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="retimuad-training")
        m.ir_version = 8  # onnxruntime-node 1.23 reads IR ≤ 11; 8 is the opset-17 era's
        m.doc_string = doc
        onnx.checker.check_model(m)
        onnx.save(m, path)


def train(net, x, y, epochs, lr, batch, rng, label):
    """Adam on mean squared error; returns the final epoch's mean training loss."""
    m = {id(l.p[k]): np.zeros_like(l.p[k]) for l, k in net.params()}
    v = {id(l.p[k]): np.zeros_like(l.p[k]) for l, k in net.params()}
    b1, b2, eps, step = 0.9, 0.999, 1e-8, 0
    n = len(x)
    t0 = time.time()
    for ep in range(epochs):
        order = rng.permutation(n)
        tot = 0.0
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            out = net.fwd(x[idx])
            diff = out - y[idx]
            tot += float((diff**2).sum())
            net.bwd((2.0 / diff.size) * diff)
            step += 1
            a = lr * np.sqrt(1 - b2**step) / (1 - b1**step)
            for l, k in net.params():
                g = l.g[k]
                key = id(l.p[k])
                m[key] = b1 * m[key] + (1 - b1) * g
                v[key] = b2 * v[key] + (1 - b2) * g * g
                l.p[k] -= (a * m[key] / (np.sqrt(v[key]) + eps)).astype(np.float32)
        loss = tot / y.size
        if ep % 5 == 0 or ep == epochs - 1:
            print(f"  {label} epoch {ep + 1}/{epochs} loss {loss:.5f} ({time.time() - t0:.0f} s)", flush=True)
    return loss


# ---------------------------------------------------------------- helpers
def load(data, manifest, name):
    e = manifest[name]
    return np.fromfile(os.path.join(data, e["file"]), dtype="<f4").reshape(e["shape"])


def auc(neg, pos):
    """Probability that a faulty score exceeds a normal one (ties count half)."""
    neg, pos = np.asarray(neg), np.asarray(pos)
    gt = (pos[:, None] > neg[None, :]).mean()
    eq = (pos[:, None] == neg[None, :]).mean()
    return float(gt + 0.5 * eq)


def calibrate(val_scores, quantile, margin):
    return float(np.quantile(val_scores, quantile) * margin)


def write_meta(path, meta):
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def r6(a):
    return [round(float(v), 6) for v in np.asarray(a).ravel()]


# ---------------------------------------------------------------- models
def audio(data, manifest, out, rng, epochs):
    spec = manifest["audio_spec"]
    tr, va, fa = (load(data, manifest, n) for n in ("audio_train", "audio_val", "audio_fault"))
    M, T = spec["melBins"], spec["patchFrames"]
    mean = tr.transpose(0, 1, 3, 2).reshape(-1, M).mean(0)
    std = tr.transpose(0, 1, 3, 2).reshape(-1, M).std(0) + 1e-3
    norm = lambda a: ((a - mean[None, None, :, None]) / std[None, None, :, None]).astype(np.float32)
    trn, van, fan = norm(tr), norm(va), norm(fa)
    x = trn.reshape(-1, 1, M, T)
    F = 16
    net = Net([PatchConv(rng, 1, F, 4, 4), Relu(), Flatten(), Dense(rng, F * (M // 4) * (T // 4), 24), Relu(),
               Dense(rng, 24, F * (M // 4) * (T // 4)), Relu(), Unflatten((F, M // 4, T // 4)), PatchConvT(rng, F, 1, 4, 4)])
    loss = train(net, x, x, epochs, 2e-3, 64, rng, "audio")

    def clip_scores(a):
        p = a.reshape(-1, 1, M, T)
        err = ((net.fwd(p) - p) ** 2).reshape(a.shape[0], a.shape[1], -1).mean(2)
        return err.mean(1)

    sv, sf = clip_scores(van), clip_scores(fan)
    kinds = manifest["audio_fault"]["kinds"]
    thr = calibrate(sv, 0.999, 1.25)
    sample = van[0].reshape(-1, 1, M, T)[:2]
    net.to_onnx(os.path.join(out, "audio_ae.onnx"), "patches", [1, M, T], "reconstruction", [1, M, T],
                "convolutional autoencoder over log-mel patches of pump audio")
    meta = {
        "name": "audio_ae", "version": 1, "modality": "audio", "file": "audio_ae.onnx",
        "description": "Convolutional autoencoder over 32-band log-mel patches (16 frames) of 1 s pump clips; score = mean squared reconstruction error of the clip's patches (normalised units).",
        "input": {"name": "patches", "dtype": "float32", "shape": [-1, 1, M, T]},
        "output": {"name": "reconstruction", "dtype": "float32", "shape": [-1, 1, M, T]},
        "prepare": {"kind": "logmel_patches", "sample_rate_hz": spec["sampleRateHz"], "fft_size": spec["fftSize"], "hop_size": spec["hopSize"],
                    "mel_bins": M, "patch_frames": T, "patch_hop": spec["patchHop"], "mean": r6(mean), "std": r6(std)},
        "score": {"kind": "reconstruction_error", "reduce": "mean", "aggregate": "mean"},
        "threshold": round(thr, 6),
        "metric": "audio_ae_error",
        "training": {
            "framework": "numpy " + np.__version__, "seed": SEED, "epochs": epochs, "params": net.count(), "final_loss": round(loss, 6),
            "clips": {"train": int(tr.shape[0]), "val_normal": int(va.shape[0]), "fault": int(fa.shape[0])},
            "calibration": "threshold = 1.25 x the 99.9th percentile of held-out normal clip scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault": {"min": round(float(sf.min()), 6), "mean": round(float(sf.mean()), 6)},
            "auc": round(auc(sv, sf), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault": float((sf > thr).mean()),
                        "cavitation": float((sf[[k == "cavitation" for k in kinds]] > thr).mean()),
                        "bearing": float((sf[[k == "bearing" for k in kinds]] > thr).mean())},
        },
        "check": {"input": r6(sample), "shape": [2, 1, M, T], "output": r6(net.fwd(sample))},
    }
    write_meta(os.path.join(out, "audio_ae.json"), meta)
    return meta


def image(data, manifest, out, rng, epochs):
    tr, va, fa = (load(data, manifest, n) for n in ("image_train", "image_val", "image_fault"))
    H, W = tr.shape[1], tr.shape[2]
    mean, std = float(tr.mean()), float(tr.std())
    norm = lambda a: ((a - mean) / std).astype(np.float32)[:, None]
    trn, van, fan = norm(tr), norm(va), norm(fa)
    F, K = 64, 8
    hb, wb = H // K, W // K
    net = Net([PatchConv(rng, 1, F, K, K), Relu(), Flatten(), Dense(rng, F * hb * wb, 32), Relu(),
               Dense(rng, 32, F * hb * wb), Relu(), Unflatten((F, hb, wb)), PatchConvT(rng, F, 1, K, K)])
    loss = train(net, trn, trn, epochs, 1e-3, 32, rng, "image")
    top = 0.01

    def scores(a):
        e = ((net.fwd(a) - a) ** 2).reshape(a.shape[0], -1)
        k = max(1, int(round(top * e.shape[1])))
        return np.sort(e, axis=1)[:, -k:].mean(1)

    sv, sf = scores(van), scores(fan)
    thr = calibrate(sv, 0.999, 1.25)
    sample = van[:1]
    net.to_onnx(os.path.join(out, "image_ae.onnx"), "frame", [1, H, W], "reconstruction", [1, H, W],
                "convolutional autoencoder over 96x64 gray camera frames")
    meta = {
        "name": "image_ae", "version": 1, "modality": "image", "file": "image_ae.onnx",
        "description": "Convolutional autoencoder over 96x64 gray frames; the per-pixel squared reconstruction error is the heat map; score = mean of its top 1 %.",
        "input": {"name": "frame", "dtype": "float32", "shape": [-1, 1, H, W]},
        "output": {"name": "reconstruction", "dtype": "float32", "shape": [-1, 1, H, W]},
        "prepare": {"kind": "image_gray", "width": W, "height": H, "mean": round(mean, 6), "std": round(std, 6)},
        "score": {"kind": "reconstruction_error", "reduce": "top_fraction", "fraction": top, "aggregate": "mean"},
        "threshold": round(thr, 6),
        "metric": "image_ae_error",
        "training": {
            "framework": "numpy " + np.__version__, "seed": SEED, "epochs": epochs, "params": net.count(), "final_loss": round(loss, 6),
            "frames": {"train": int(tr.shape[0]), "val_normal": int(va.shape[0]), "fault": int(fa.shape[0])},
            "calibration": "threshold = 1.25 x the 99.9th percentile of held-out normal frame scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault": {"min": round(float(sf.min()), 6), "mean": round(float(sf.mean()), 6)},
            "auc": round(auc(sv, sf), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault": float((sf > thr).mean())},
        },
        "check": {"input": r6(sample), "shape": [1, 1, H, W], "output": r6(net.fwd(sample))},
    }
    write_meta(os.path.join(out, "image_ae.json"), meta)
    return meta


def windows(rows, steps):
    n = rows.shape[0] - steps
    idx = np.arange(steps)[None, :] + np.arange(n)[:, None]
    x = rows[idx].transpose(0, 2, 1)  # [n, C, steps]
    y = rows[steps:]
    return x.astype(np.float32), y.astype(np.float32)


def sensor(data, manifest, out, rng, epochs):
    tr, va, fa = (load(data, manifest, n) for n in ("sensor_train", "sensor_val", "sensor_fault"))
    lab = load(data, manifest, "sensor_fault_label")
    channels = manifest["sensor_train"]["channels"]
    C, L = len(channels), 32
    mean, std = tr.mean(0), tr.std(0) + 1e-6
    norm = lambda a: (a - mean) / std
    xtr, ytr = windows(norm(tr), L)
    xva, yva = windows(norm(va), L)
    xfa, yfa = windows(norm(fa), L)
    lfa = lab[L:]
    x4 = lambda a: a[:, :, None, :]  # 1-D conv trained as a 2-D one with height 1
    F = 16
    net = Net([PatchConv(rng, C, F, 1, 4, one_d=True), Relu(), Flatten(), Dense(rng, F * (L // 4), 32), Relu(), Dense(rng, 32, C, relu_after=False)])
    loss = train(net, x4(xtr), ytr, epochs, 2e-3, 128, rng, "sensor")
    sv = ((net.fwd(x4(xva)) - yva) ** 2).mean(1)
    sf = ((net.fwd(x4(xfa)) - yfa) ** 2).mean(1)
    thr = calibrate(sv, 0.999, 1.25)
    sample = xva[:4]
    net.to_onnx(os.path.join(out, "sensor_forecaster.onnx"), "window", [C, L], "next", [C],
                "1-D convolutional forecaster of P-101's next reading from 32 s of its channels")
    inside = sf[lfa > 0]
    outside = sf[lfa == 0]
    meta = {
        "name": "sensor_forecaster", "version": 1, "modality": "reading", "file": "sensor_forecaster.onnx",
        "description": "1-D convolutional forecaster: 32 one-second steps of a pump's speed, flow, pressure, vibration and current -> the next step; score = mean squared prediction error (normalised units).",
        "input": {"name": "window", "dtype": "float32", "shape": [-1, C, L]},
        "output": {"name": "next", "dtype": "float32", "shape": [-1, C]},
        "prepare": {"kind": "sensor_window", "channels": channels, "steps": L, "step_secs": 1, "mean": r6(mean), "std": r6(std)},
        "score": {"kind": "forecast_error"},
        "threshold": round(thr, 6),
        "metric": "model_error",
        "training": {
            "framework": "numpy " + np.__version__, "seed": SEED, "epochs": epochs, "params": net.count(), "final_loss": round(loss, 6),
            "windows": {"train": int(len(xtr)), "val_normal": int(len(xva)), "fault_run": int(len(xfa)), "fault_labelled": int(len(inside))},
            "calibration": "threshold = 1.25 x the 99.9th percentile of held-out normal step scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault_window": {"mean": round(float(inside.mean()), 6), "median": round(float(np.median(inside)), 6)},
            "auc_steps": round(auc(outside, inside), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault_run_outside_labels": float((outside > thr).mean()), "fault_window_steps": float((inside > thr).mean())},
        },
        "check": {"input": r6(sample), "shape": [4, C, L], "output": r6(net.fwd(x4(sample)))},
    }
    write_meta(os.path.join(out, "sensor_forecaster.json"), meta)
    return meta


def sensor_ae(data, manifest, out, rng, epochs):
    """The second sensor option: a multivariate 1-D convolutional autoencoder over the same windows."""
    tr, va, fa = (load(data, manifest, n) for n in ("sensor_train", "sensor_val", "sensor_fault"))
    lab = load(data, manifest, "sensor_fault_label")
    channels = manifest["sensor_train"]["channels"]
    C, L = len(channels), 32
    mean, std = tr.mean(0), tr.std(0) + 1e-6
    norm = lambda a: (a - mean) / std
    # windows ending at (and including) each step: the stage scores the window that ends with the newest row
    win = lambda a: windows(np.concatenate([a, a[-1:]]), L)[0][:, :, None, :]
    xtr, xva, xfa = win(norm(tr)), win(norm(va)), win(norm(fa))
    lfa = lab[L - 1 :]
    F = 16
    net = Net([PatchConv(rng, C, F, 1, 4, one_d=True), Relu(), Flatten(), Dense(rng, F * (L // 4), 12), Relu(),
               Dense(rng, 12, F * (L // 4)), Relu(), Unflatten((F, 1, L // 4), (F, L // 4)), PatchConvT(rng, F, C, 1, 4, one_d=True)])
    loss = train(net, xtr, xtr, epochs, 2e-3, 128, rng, "sensor_ae")
    score = lambda x: ((net.fwd(x) - x) ** 2).reshape(len(x), -1).mean(1)
    sv, sf = score(xva), score(xfa)
    thr = calibrate(sv, 0.999, 1.25)
    inside, outside = sf[lfa > 0], sf[lfa == 0]
    sample = xva[:4]
    net.to_onnx(os.path.join(out, "sensor_ae.onnx"), "window", [C, L], "reconstruction", [C, L],
                "multivariate 1-D convolutional autoencoder over 32 s of a pump's channels")
    meta = {
        "name": "sensor_ae", "version": 1, "modality": "reading", "file": "sensor_ae.onnx",
        "description": "Multivariate 1-D convolutional autoencoder over 32 one-second steps of a pump's speed, flow, pressure, vibration and current (the newest step included); score = mean squared reconstruction error (normalised units).",
        "input": {"name": "window", "dtype": "float32", "shape": [-1, C, L]},
        "output": {"name": "reconstruction", "dtype": "float32", "shape": [-1, C, L]},
        "prepare": {"kind": "sensor_window", "channels": channels, "steps": L, "step_secs": 1, "mean": r6(mean), "std": r6(std)},
        "score": {"kind": "reconstruction_error", "reduce": "mean"},
        "threshold": round(thr, 6),
        "metric": "model_ae_error",
        "training": {
            "framework": "numpy " + np.__version__, "seed": SEED, "epochs": epochs, "params": net.count(), "final_loss": round(loss, 6),
            "windows": {"train": int(len(xtr)), "val_normal": int(len(xva)), "fault_run": int(len(xfa)), "fault_labelled": int(len(inside))},
            "calibration": "threshold = 1.25 x the 99.9th percentile of held-out normal window scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault_window": {"mean": round(float(inside.mean()), 6), "median": round(float(np.median(inside)), 6)},
            "auc_steps": round(auc(outside, inside), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault_run_outside_labels": float((outside > thr).mean()), "fault_window_steps": float((inside > thr).mean())},
        },
        "check": {"input": r6(sample[:, :, 0, :]), "shape": [4, C, L], "output": r6(net.fwd(sample)[:, :, 0, :])},
    }
    write_meta(os.path.join(out, "sensor_ae.json"), meta)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="training/.work")
    ap.add_argument("--out", default="models")
    ap.add_argument("--only", choices=["audio", "image", "sensor", "sensor_ae"], action="append")
    ap.add_argument("--epochs-scale", type=float, default=1.0, help="multiply every model's epochs (quick trial runs)")
    a = ap.parse_args()
    with open(os.path.join(a.data, "manifest.json")) as f:
        manifest = json.load(f)
    os.makedirs(a.out, exist_ok=True)
    todo = a.only or ["audio", "image", "sensor", "sensor_ae"]
    ep = lambda n: max(1, int(n * a.epochs_scale))
    for name in todo:
        rng = np.random.default_rng(SEED)  # one fixed stream per model: retraining one does not change the others
        print(f"training {name}", flush=True)
        meta = {"audio": lambda: audio(a.data, manifest, a.out, rng, ep(40)),
                "image": lambda: image(a.data, manifest, a.out, rng, ep(60)),
                "sensor": lambda: sensor(a.data, manifest, a.out, rng, ep(30)),
                "sensor_ae": lambda: sensor_ae(a.data, manifest, a.out, rng, ep(30))}[name]()
        t = meta["training"]
        print(f"  {meta['name']}: threshold {meta['threshold']}, flagged {json.dumps(t['flagged'])}, auc {t.get('auc', t.get('auc_steps'))}", flush=True)


if __name__ == "__main__":
    main()
