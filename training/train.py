"""Trains RETIMU-AD's shipped models with PyTorch on the simulator's normal data and exports ONNX.

    python3 training/train.py --data training/.work --out models     (bash training/train.sh runs it)

Reads the float32 sets written by training/export-data.ts, trains each network (torch.nn.Module,
Adam on mean squared error, fixed seed, deterministic algorithms, one thread), calibrates a
threshold on held-out normal data, checks separation on faulty data, and writes per model:
  models/<name>.onnx       the network (TorchScript exporter, opset 17, dynamic batch axis "N")
  models/<name>.json       metadata: input/output names and shapes, input preparation with its
                           normalisation statistics, output->score mapping, calibrated threshold,
                           training figures, and a reference input/output pair for parity tests.

The metadata format is the one packages/engine/src/models/spec.ts reads, so serving is unchanged.
"""
from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import numpy as np
import onnx
import torch
from torch import nn

SEED = 20240101
OPSET = 17  # onnxruntime-node 1.23 runs opsets up to 23; 17 keeps the graphs readable by older runtimes too


def deterministic() -> None:
    # One thread: the networks are small (oversubscribed threads are slower on a shared 2-core
    # machine) and a fixed reduction order makes runs repeatable bit for bit.
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------- networks
class Reshape(nn.Module):
    """[N, ...] -> [N, *shape]; exports as one Reshape with a constant [-1, *shape] (nn.Unflatten
    exports as a Shape/Slice/Concat chain, extra nodes on every inference)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, *self.shape)


class AudioAE(nn.Module):
    """Conv autoencoder over one log-mel patch [N, 1, mels, frames] (mels, frames divisible by 4)."""

    def __init__(self, mels: int, frames: int, code: int = 24):
        super().__init__()
        self.inner = (32, mels // 4, frames // 4)
        flat = 32 * (mels // 4) * (frames // 4)
        self.enc = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, code), nn.ReLU(),
        )
        self.dec = nn.Sequential(
            nn.Linear(code, flat), nn.ReLU(), Reshape(*self.inner),
            nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 1, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dec(self.enc(x))


class ImageAE(nn.Module):
    """Conv autoencoder over a gray frame [N, 1, H, W] (H, W divisible by 8); its per-pixel error is the heat map."""

    def __init__(self, h: int, w: int, code: int = 32):
        super().__init__()
        inner = (32, h // 8, w // 8)
        flat = 32 * (h // 8) * (w // 8)
        self.enc = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, code), nn.ReLU(),
        )
        self.dec = nn.Sequential(
            nn.Linear(code, flat), nn.ReLU(), Reshape(*inner),
            nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dec(self.enc(x))


def conv1d_encoder(channels: int, steps: int) -> nn.Sequential:
    """[N, C, L] -> [N, 16 * L/4]: three 1-D convolutions (kernel 3), two of them halving the steps."""
    return nn.Sequential(
        nn.Conv1d(channels, 16, 3, padding=1), nn.ReLU(),
        nn.Conv1d(16, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(16, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(),
    )


class SensorForecaster(nn.Module):
    """1-D CNN forecaster: a window [N, C, L] of normalised readings -> the next step [N, C]."""

    def __init__(self, channels: int, steps: int):
        super().__init__()
        self.enc = conv1d_encoder(channels, steps)
        self.head = nn.Sequential(nn.Linear(16 * (steps // 4), 32), nn.ReLU(), nn.Linear(32, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(x))


class SensorAE(nn.Module):
    """Multivariate 1-D conv autoencoder: a window [N, C, L] -> its reconstruction [N, C, L]."""

    def __init__(self, channels: int, steps: int, code: int = 12):
        super().__init__()
        flat = 16 * (steps // 4)
        self.enc = nn.Sequential(conv1d_encoder(channels, steps), nn.Linear(flat, code), nn.ReLU())
        self.dec = nn.Sequential(
            nn.Linear(code, flat), nn.ReLU(), Reshape(16, steps // 4),
            nn.ConvTranspose1d(16, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose1d(16, channels, 4, stride=2, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dec(self.enc(x))


# ---------------------------------------------------------------- training and export
def params(net: nn.Module) -> int:
    return int(sum(p.numel() for p in net.parameters()))


def fit(net: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, batch: int, label: str) -> float:
    """Adam on mean squared error over shuffled minibatches; returns the last epoch's mean loss."""
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(SEED)  # the shuffling order is part of the seed too
    n = len(xt)
    t0 = time.time()
    loss = float("nan")
    net.train()
    for ep in range(epochs):
        order = torch.randperm(n, generator=gen)
        tot = 0.0
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            opt.zero_grad(set_to_none=True)
            err = nn.functional.mse_loss(net(xt[idx]), yt[idx], reduction="sum")
            (err / yt[idx].numel()).backward()
            opt.step()
            tot += float(err.detach())
        loss = tot / yt.numel()
        if ep % 5 == 0 or ep == epochs - 1:
            print(f"  {label} epoch {ep + 1}/{epochs} loss {loss:.5f} ({time.time() - t0:.0f} s)", flush=True)
    net.eval()
    return loss


@torch.no_grad()
def predict(net: nn.Module, x: np.ndarray, batch: int = 512) -> np.ndarray:
    net.eval()
    return np.concatenate([net(torch.from_numpy(np.ascontiguousarray(x[s : s + batch]))).numpy() for s in range(0, len(x), batch)])


def export(net: nn.Module, path: str, in_name: str, out_name: str, sample: np.ndarray, doc: str) -> None:
    """TorchScript exporter (dynamo=False: needs no onnxscript), batch axis dynamic, then checked by onnx."""
    net.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice in torch >= 2.8
        torch.onnx.export(
            net, (torch.from_numpy(sample),), path, input_names=[in_name], output_names=[out_name],
            dynamic_axes={in_name: {0: "N"}, out_name: {0: "N"}}, opset_version=OPSET, dynamo=False,
            do_constant_folding=True,
        )
    m = onnx.load(path)
    m.doc_string = doc
    m.producer_name = "retimuad-training (torch " + torch.__version__ + ")"
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def framework() -> str:
    return f"torch {torch.__version__}"


# ---------------------------------------------------------------- helpers (data, calibration)
def load(data, manifest, name):
    e = manifest[name]
    return np.fromfile(os.path.join(data, e["file"]), dtype="<f4").reshape(e["shape"])


def auc(neg, pos):
    """Probability that a faulty score exceeds a normal one (ties count half)."""
    neg, pos = np.asarray(neg), np.asarray(pos)
    gt = (pos[:, None] > neg[None, :]).mean()
    eq = (pos[:, None] == neg[None, :]).mean()
    return float(gt + 0.5 * eq)


CAL_Q, CAL_MARGIN = 0.999, 1.25


def calibrate(val_scores, quantile=CAL_Q, margin=CAL_MARGIN):
    return float(np.quantile(val_scores, quantile) * margin)


def write_meta(path, meta):
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def r6(a):
    return [round(float(v), 6) for v in np.asarray(a).ravel()]


def windows(rows, steps):
    n = rows.shape[0] - steps
    idx = np.arange(steps)[None, :] + np.arange(n)[:, None]
    x = rows[idx].transpose(0, 2, 1)  # [n, C, steps]
    y = rows[steps:]
    return x.astype(np.float32), y.astype(np.float32)


# ---------------------------------------------------------------- models
def audio(data, manifest, out, epochs):
    spec = manifest["audio_spec"]
    tr, va, fa = (load(data, manifest, n) for n in ("audio_train", "audio_val", "audio_fault"))
    M, T = spec["melBins"], spec["patchFrames"]
    mean = tr.transpose(0, 1, 3, 2).reshape(-1, M).mean(0)
    std = tr.transpose(0, 1, 3, 2).reshape(-1, M).std(0) + 1e-3
    norm = lambda a: ((a - mean[None, None, :, None]) / std[None, None, :, None]).astype(np.float32)
    trn, van, fan = norm(tr), norm(va), norm(fa)
    x = trn.reshape(-1, 1, M, T)
    net = AudioAE(M, T)
    loss = fit(net, x, x, epochs, 2e-3, 64, "audio")

    def clip_scores(a):
        p = a.reshape(-1, 1, M, T)
        err = ((predict(net, p) - p) ** 2).reshape(a.shape[0], a.shape[1], -1).mean(2)
        return err.mean(1)

    sv, sf = clip_scores(van), clip_scores(fan)
    kinds = manifest["audio_fault"]["kinds"]
    thr = calibrate(sv)
    sample = np.ascontiguousarray(van[0].reshape(-1, 1, M, T)[:2])
    export(net, os.path.join(out, "audio_ae.onnx"), "patches", "reconstruction", sample,
           "convolutional autoencoder over log-mel patches of pump audio")
    meta = {
        "name": "audio_ae", "version": 2, "modality": "audio", "file": "audio_ae.onnx",
        "description": "Convolutional autoencoder over 32-band log-mel patches (16 frames) of 1 s pump clips; score = mean squared reconstruction error of the clip's patches (normalised units).",
        "input": {"name": "patches", "dtype": "float32", "shape": [-1, 1, M, T]},
        "output": {"name": "reconstruction", "dtype": "float32", "shape": [-1, 1, M, T]},
        "prepare": {"kind": "logmel_patches", "sample_rate_hz": spec["sampleRateHz"], "fft_size": spec["fftSize"], "hop_size": spec["hopSize"],
                    "mel_bins": M, "patch_frames": T, "patch_hop": spec["patchHop"], "mean": r6(mean), "std": r6(std)},
        "score": {"kind": "reconstruction_error", "reduce": "mean", "aggregate": "mean"},
        "threshold": round(thr, 6),
        "metric": "audio_ae_error",
        "training": {
            "framework": framework(), "seed": SEED, "epochs": epochs, "params": params(net), "final_loss": round(loss, 6),
            "clips": {"train": int(tr.shape[0]), "val_normal": int(va.shape[0]), "fault": int(fa.shape[0])},
            "calibration": f"threshold = {CAL_MARGIN} x the {CAL_Q * 100:g}th percentile of held-out normal clip scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault": {"min": round(float(sf.min()), 6), "mean": round(float(sf.mean()), 6)},
            "auc": round(auc(sv, sf), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault": float((sf > thr).mean()),
                        "cavitation": float((sf[[k == "cavitation" for k in kinds]] > thr).mean()),
                        "bearing": float((sf[[k == "bearing" for k in kinds]] > thr).mean())},
        },
        "check": {"input": r6(sample), "shape": [2, 1, M, T], "output": r6(predict(net, sample))},
    }
    write_meta(os.path.join(out, "audio_ae.json"), meta)
    return meta


def image(data, manifest, out, epochs):
    tr, va, fa = (load(data, manifest, n) for n in ("image_train", "image_val", "image_fault"))
    H, W = tr.shape[1], tr.shape[2]
    mean, std = float(tr.mean()), float(tr.std())
    norm = lambda a: ((a - mean) / std).astype(np.float32)[:, None]
    trn, van, fan = norm(tr), norm(va), norm(fa)
    net = ImageAE(H, W)
    loss = fit(net, trn, trn, epochs, 1e-3, 32, "image")
    top = 0.01

    def scores(a):
        e = ((predict(net, a, 64) - a) ** 2).reshape(a.shape[0], -1)
        k = max(1, int(round(top * e.shape[1])))
        return np.sort(e, axis=1)[:, -k:].mean(1)

    sv, sf = scores(van), scores(fan)
    thr = calibrate(sv)
    sample = np.ascontiguousarray(van[:1])
    export(net, os.path.join(out, "image_ae.onnx"), "frame", "reconstruction", sample,
           "convolutional autoencoder over 96x64 gray camera frames")
    meta = {
        "name": "image_ae", "version": 2, "modality": "image", "file": "image_ae.onnx",
        "description": "Convolutional autoencoder over 96x64 gray frames; the per-pixel squared reconstruction error is the heat map; score = mean of its top 1 %.",
        "input": {"name": "frame", "dtype": "float32", "shape": [-1, 1, H, W]},
        "output": {"name": "reconstruction", "dtype": "float32", "shape": [-1, 1, H, W]},
        "prepare": {"kind": "image_gray", "width": W, "height": H, "mean": round(mean, 6), "std": round(std, 6)},
        "score": {"kind": "reconstruction_error", "reduce": "top_fraction", "fraction": top, "aggregate": "mean"},
        "threshold": round(thr, 6),
        "metric": "image_ae_error",
        "training": {
            "framework": framework(), "seed": SEED, "epochs": epochs, "params": params(net), "final_loss": round(loss, 6),
            "frames": {"train": int(tr.shape[0]), "val_normal": int(va.shape[0]), "fault": int(fa.shape[0])},
            "calibration": f"threshold = {CAL_MARGIN} x the {CAL_Q * 100:g}th percentile of held-out normal frame scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault": {"min": round(float(sf.min()), 6), "mean": round(float(sf.mean()), 6)},
            "auc": round(auc(sv, sf), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault": float((sf > thr).mean())},
        },
        "check": {"input": r6(sample), "shape": [1, 1, H, W], "output": r6(predict(net, sample))},
    }
    write_meta(os.path.join(out, "image_ae.json"), meta)
    return meta


def sensor_sets(data, manifest):
    tr, va, fa = (load(data, manifest, n) for n in ("sensor_train", "sensor_val", "sensor_fault"))
    lab = load(data, manifest, "sensor_fault_label")
    channels = manifest["sensor_train"]["channels"]
    mean, std = tr.mean(0), tr.std(0) + 1e-6
    norm = lambda a: ((a - mean) / std).astype(np.float32)
    return norm(tr), norm(va), norm(fa), lab, channels, mean, std


def sensor(data, manifest, out, epochs):
    trn, van, fan, lab, channels, mean, std = sensor_sets(data, manifest)
    C, L = len(channels), 32
    xtr, ytr = windows(trn, L)
    xva, yva = windows(van, L)
    xfa, yfa = windows(fan, L)
    lfa = lab[L:]
    net = SensorForecaster(C, L)
    loss = fit(net, xtr, ytr, epochs, 2e-3, 128, "sensor")
    sv = ((predict(net, xva) - yva) ** 2).mean(1)
    sf = ((predict(net, xfa) - yfa) ** 2).mean(1)
    thr = calibrate(sv)
    sample = np.ascontiguousarray(xva[:4])
    export(net, os.path.join(out, "sensor_forecaster.onnx"), "window", "next", sample,
           "1-D convolutional forecaster of P-101's next reading from 32 s of its channels")
    inside, outside = sf[lfa > 0], sf[lfa == 0]
    meta = {
        "name": "sensor_forecaster", "version": 2, "modality": "reading", "file": "sensor_forecaster.onnx",
        "description": "1-D convolutional forecaster: 32 one-second steps of a pump's speed, flow, pressure, vibration and current -> the next step; score = mean squared prediction error (normalised units).",
        "input": {"name": "window", "dtype": "float32", "shape": [-1, C, L]},
        "output": {"name": "next", "dtype": "float32", "shape": [-1, C]},
        "prepare": {"kind": "sensor_window", "channels": channels, "steps": L, "step_secs": 1, "mean": r6(mean), "std": r6(std)},
        "score": {"kind": "forecast_error"},
        "threshold": round(thr, 6),
        "metric": "model_error",
        "training": {
            "framework": framework(), "seed": SEED, "epochs": epochs, "params": params(net), "final_loss": round(loss, 6),
            "windows": {"train": int(len(xtr)), "val_normal": int(len(xva)), "fault_run": int(len(xfa)), "fault_labelled": int(len(inside))},
            "calibration": f"threshold = {CAL_MARGIN} x the {CAL_Q * 100:g}th percentile of held-out normal step scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault_window": {"mean": round(float(inside.mean()), 6), "median": round(float(np.median(inside)), 6)},
            "auc_steps": round(auc(outside, inside), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault_run_outside_labels": float((outside > thr).mean()), "fault_window_steps": float((inside > thr).mean())},
        },
        "check": {"input": r6(sample), "shape": [4, C, L], "output": r6(predict(net, sample))},
    }
    write_meta(os.path.join(out, "sensor_forecaster.json"), meta)
    return meta


def sensor_ae(data, manifest, out, epochs):
    """The second sensor option: a multivariate 1-D convolutional autoencoder over the same windows."""
    trn, van, fan, lab, channels, mean, std = sensor_sets(data, manifest)
    C, L = len(channels), 32
    # windows ending at (and including) each step: the stage scores the window that ends with the newest row
    win = lambda a: windows(np.concatenate([a, a[-1:]]), L)[0]
    xtr, xva, xfa = win(trn), win(van), win(fan)
    lfa = lab[L - 1 :]
    net = SensorAE(C, L)
    loss = fit(net, xtr, xtr, epochs, 2e-3, 128, "sensor_ae")
    score = lambda x: ((predict(net, x) - x) ** 2).reshape(len(x), -1).mean(1)
    sv, sf = score(xva), score(xfa)
    thr = calibrate(sv)
    inside, outside = sf[lfa > 0], sf[lfa == 0]
    sample = np.ascontiguousarray(xva[:4])
    export(net, os.path.join(out, "sensor_ae.onnx"), "window", "reconstruction", sample,
           "multivariate 1-D convolutional autoencoder over 32 s of a pump's channels")
    meta = {
        "name": "sensor_ae", "version": 2, "modality": "reading", "file": "sensor_ae.onnx",
        "description": "Multivariate 1-D convolutional autoencoder over 32 one-second steps of a pump's speed, flow, pressure, vibration and current (the newest step included); score = mean squared reconstruction error (normalised units).",
        "input": {"name": "window", "dtype": "float32", "shape": [-1, C, L]},
        "output": {"name": "reconstruction", "dtype": "float32", "shape": [-1, C, L]},
        "prepare": {"kind": "sensor_window", "channels": channels, "steps": L, "step_secs": 1, "mean": r6(mean), "std": r6(std)},
        "score": {"kind": "reconstruction_error", "reduce": "mean"},
        "threshold": round(thr, 6),
        "metric": "model_ae_error",
        "training": {
            "framework": framework(), "seed": SEED, "epochs": epochs, "params": params(net), "final_loss": round(loss, 6),
            "windows": {"train": int(len(xtr)), "val_normal": int(len(xva)), "fault_run": int(len(xfa)), "fault_labelled": int(len(inside))},
            "calibration": f"threshold = {CAL_MARGIN} x the {CAL_Q * 100:g}th percentile of held-out normal window scores",
            "val_normal": {"mean": round(float(sv.mean()), 6), "max": round(float(sv.max()), 6)},
            "fault_window": {"mean": round(float(inside.mean()), 6), "median": round(float(np.median(inside)), 6)},
            "auc_steps": round(auc(outside, inside), 4),
            "flagged": {"val_normal": float((sv > thr).mean()), "fault_run_outside_labels": float((outside > thr).mean()), "fault_window_steps": float((inside > thr).mean())},
        },
        "check": {"input": r6(sample), "shape": [4, C, L], "output": r6(predict(net, sample))},
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
    deterministic()
    with open(os.path.join(a.data, "manifest.json")) as f:
        manifest = json.load(f)
    os.makedirs(a.out, exist_ok=True)
    todo = a.only or ["audio", "image", "sensor", "sensor_ae"]
    ep = lambda n: max(1, int(n * a.epochs_scale))
    for name in todo:
        torch.manual_seed(SEED)  # one fixed seed per model: retraining one does not change the others
        t0 = time.time()
        print(f"training {name}", flush=True)
        meta = {"audio": lambda: audio(a.data, manifest, a.out, ep(40)),
                "image": lambda: image(a.data, manifest, a.out, ep(40)),
                "sensor": lambda: sensor(a.data, manifest, a.out, ep(30)),
                "sensor_ae": lambda: sensor_ae(a.data, manifest, a.out, ep(30))}[name]()
        t = meta["training"]
        print(f"  {meta['name']}: {t['params']} params, threshold {meta['threshold']}, flagged {json.dumps(t['flagged'])}, "
              f"auc {t.get('auc', t.get('auc_steps'))}, {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
