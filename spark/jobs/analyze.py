"""Batch analyses of the RETIMU-AD Parquet archive on Apache Spark.

The same analyses as the embedded engine (packages/engine/src/analytics/analyze.ts), written as
the same JSON (AnalysisResult in packages/core/src/analytics/types.ts), so one report renderer and
one findings builder serve both engines and the parity test compares like with like:

- summary statistics per (site, asset, metric): count, mean, sample std, min, max and exact
  percentiles with linear interpolation (like DuckDB `quantile_cont`, from the ranks of one sort);
- histograms over [min, max] with the same bin expression, outlier bins flagged by the same rule;
- drift between [from, split) and [split, to]: Cohen's d, std ratio, PSI over the histogram bins;
- trends: window means, rolling mean, least-squares slope per hour;
- K-Means over per-window mean/std features of each asset's channels, standardised, k in [2, 8]
  chosen by the highest mean silhouette (Euclidean, on the same evenly spaced sample of at most
  600 windows as core/analytics/kmeans.ts chooseK), best of ten (MLlib: three) seeded restarts per k;
  points farther than the Tukey far fence of the distances flagged, clusters of at most
  max(2, 1 %) windows "tiny". An asset's feature table has about 1 500 rows by the window plan, so
  it is clustered on the driver with numpy; above --kmeans-driver-max windows the fits run on
  Spark MLlib over one cached DataFrame (all k), and only the silhouette sample is judged locally.

How the data is read (few actions: the job is scheduling-bound, not data-bound, at 10 M rows):
  1. one grouped scan per (series, fine window) — count, mean, variance, min, max — collected to
     the driver (series × ~1 500 rows); statistics, drift, trends and clustering features are
     exact merges of those windows (Chan et al.), as analyze.ts does;
  2. one scan for the histograms, against a broadcast table of each series' [min, max];
  3. one sort for all exact percentiles: row_number over (series ORDER BY value), keeping only the
     ranks that linear interpolation needs (at most 14 per series).

Usage:
  spark-submit --master local[2] spark/jobs/analyze.py --archive DIR --from MS --to MS --out result.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import defaultdict

import numpy as np
from pyspark import StorageLevel
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

PERCENTILES = [("p01", 0.01), ("p05", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p99", 0.99)]
NICE_MS = [1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000, 604_800_000]


def nice_window(span_ms: float, target: int, min_ms: int = 1_000) -> int:
    raw = max(min_ms, span_ms / target)
    for w in NICE_MS:
        if w >= raw:
            return w
    return int(math.ceil(raw / 86_400_000) * 86_400_000)


def quantile_sorted(xs: list[float], q: float) -> float:
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def flag_outlier_bins(lo: float, width: float, counts: list[int], p: dict, fence_k: float = 3, max_share: float = 0.01) -> list[int]:
    """Same rule as core/analytics/histogram.ts flagOutlierBins."""
    total = sum(counts)
    if total == 0:
        return []
    spread = max(p["p75"] - p["p25"], (p["p99"] - p["p01"]) / 10)
    mid = (p["p25"] + p["p75"]) / 2
    low = (mid - spread / 2) - fence_k * spread
    high = (mid + spread / 2) + fence_k * spread
    out = []
    for i, c in enumerate(counts):
        if c == 0 or c / total > max_share:
            continue
        a = lo + i * width
        b = a + width
        if b <= low or a >= high:
            out.append(i)
    return out


def psi(before: list[int], after: list[int]) -> float:
    nb, na = sum(before), sum(after)
    if nb == 0 or na == 0:
        return 0.0
    eps = 1e-4
    s = 0.0
    for b, a in zip(before, after):
        pb = max(eps, b / nb)
        pa = max(eps, a / na)
        s += (pa - pb) * math.log(pa / pb)
    return s


def drift_between(before: dict, after: dict, bins_before: list[int], bins_after: list[int]) -> dict:
    """Same rule as core/analytics/drift.ts driftBetween."""
    df_b = max(0, before["count"] - 1)
    df_a = max(0, after["count"] - 1)
    pooled_var = (df_b * before["std"] ** 2 + df_a * after["std"] ** 2) / (df_a + df_b) if df_a + df_b > 0 else 0.0
    pooled = math.sqrt(pooled_var)
    diff = after["mean"] - before["mean"]
    effect = diff / pooled if pooled > 1e-12 else (0.0 if diff == 0 else math.copysign(10.0, diff))
    std_ratio = after["std"] / before["std"] if before["std"] > 1e-12 else (10.0 if after["std"] > 1e-12 else 1.0)
    p = psi(bins_before, bins_after)
    enough = before["count"] >= 30 and after["count"] >= 30
    return {"effectSize": effect, "stdRatio": std_ratio, "psi": p, "drifted": bool(enough and (abs(effect) >= 1 or p >= 0.25))}


def slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return 0.0 if sxx == 0 else sxy / sxx


def merge(a, b):
    """Count, mean, sum of squared deviations of two parts merged exactly (Chan et al.), as analyze.ts merge()."""
    if a[0] == 0:
        return b
    if b[0] == 0:
        return a
    n = a[0] + b[0]
    d = b[1] - a[1]
    return (n, a[1] + d * b[0] / n, a[2] + b[2] + d * d * a[0] * b[0] / n)


def period_of(m):
    return {"count": m[0], "mean": m[1], "std": math.sqrt(max(0.0, m[2] / (m[0] - 1))) if m[0] > 1 else 0.0}


def group_windows(wins, ratio):
    """Fine windows (sorted by index) merged into windows `ratio` times larger: [(index, moments)]."""
    out = []
    for b, agg in wins:
        g = b // ratio
        if out and out[-1][0] == g:
            out[-1] = (g, merge(out[-1][1], agg))
        else:
            out.append((g, agg))
    return out


def sample_indexes(n: int, mx: int) -> list[int]:
    """Evenly spaced indexes, at most mx (core/analytics/kmeans.ts sampleIndexes)."""
    if n <= mx:
        return list(range(n))
    return [(i * n) // mx for i in range(mx)]


def silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean Euclidean silhouette of the sample (kmeans.ts silhouette): singletons and one-cluster samples score 0."""
    m = len(labels)
    k = int(labels.max()) + 1 if m else 0
    if k < 2 or m < 2:
        return 0.0
    onehot = np.zeros((m, k))
    onehot[np.arange(m), labels] = 1.0
    sums = dist @ onehot  # the diagonal of dist is 0, so a point adds nothing to its own cluster's sum
    counts = onehot.sum(axis=0)[None, :] - onehot  # every point but itself
    own_n = counts[np.arange(m), labels]
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.inf)
    a = means[np.arange(m), labels]
    other = means.copy()
    other[np.arange(m), labels] = np.inf
    b = other.min(axis=1)
    ok = (own_n > 0) & np.isfinite(b)
    mx = np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):  # rows with b = inf are masked out by `ok`
        s = np.where(ok & (mx > 0), (b - a) / np.where(mx > 0, mx, 1), 0.0)
    return float(s.sum() / m)


def nearest(z: np.ndarray, centers: np.ndarray):
    d2 = ((z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    lab = d2.argmin(axis=1)
    return lab, d2[np.arange(len(z)), lab]


def kmeans_once(z: np.ndarray, k: int, seed: int, max_iter: int = 100, tol: float = 1e-10):
    """Lloyd's algorithm from k-means++ seeds (kmeans.ts once(): an empty cluster keeps its centre)."""
    rng = np.random.default_rng(seed)
    n = len(z)
    c = np.empty((k, z.shape[1]))
    c[0] = z[rng.integers(n)]
    d2 = ((z - c[0]) ** 2).sum(axis=1)
    for m in range(1, k):
        total = d2.sum()
        idx = int(min(n - 1, np.searchsorted(np.cumsum(d2), rng.random() * total, side="right"))) if total > 0 else int(rng.integers(n))
        c[m] = z[idx]
        d2 = np.minimum(d2, ((z - c[m]) ** 2).sum(axis=1))
    labels = np.full(n, -1)
    for _ in range(max_iter):
        new, _ = nearest(z, c)
        if np.array_equal(new, labels):
            break
        labels = new
        moved = 0.0
        for j in range(k):
            members = z[labels == j]
            if len(members) == 0:
                continue
            nxt = members.mean(axis=0)
            moved = max(moved, float(((nxt - c[j]) ** 2).sum()))
            c[j] = nxt
        if moved <= tol:
            break
    labels, d2 = nearest(z, c)
    return c, float(d2.sum())


def fit_driver(z, k, seed, n_init=10):
    """Best of ten seeded restarts by within-cluster sum of squares. The embedded engine keeps three
    (its own generator); on ~1 500 small vectors a numpy fit costs about a millisecond, so more
    restarts make a poor local optimum at some k (and so a WCSS gap between the engines) unlikely."""
    return min((kmeans_once(z, k, seed + r * 7919) for r in range(n_init)), key=lambda m: m[1])


def mllib_fitter(spark, z):
    """At scale: every k fitted by Spark MLlib on one cached DataFrame of the standardised vectors."""
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.linalg import Vectors

    df = spark.createDataFrame([(Vectors.dense(row.tolist()),) for row in z], ["features"]).cache()

    def fit(k, seed):
        models = [KMeans(k=k, seed=seed + r * 7919, maxIter=100, tol=1e-10, featuresCol="features").fit(df) for r in range(3)]
        best = min(models, key=lambda m: m.summary.trainingCost)
        return np.array(best.clusterCenters()), float(best.summary.trainingCost)

    return fit, df


def cluster_asset(spark, site, asset, window_ms, features, windows, seed, k_max, driver_max, sample_max=600):
    """K-Means over standardised window vectors; k by silhouette; outliers and tiny clusters as in core/analytics/cluster.ts."""
    if len(windows) < 4 or not features:
        return None
    times = [t for t, _ in windows]
    x = np.array([v for _, v in windows], dtype=float)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std <= 1e-12] = 1.0
    z = (x - mean) / std
    cached = None
    if len(windows) > driver_max:
        fit, cached = mllib_fitter(spark, z)
    else:
        fit = lambda k, s: fit_driver(z, k, s)  # noqa: E731
    sample = np.array(sample_indexes(len(z), sample_max))
    zs = z[sample]
    dist = np.sqrt(np.maximum(0.0, ((zs[:, None, :] - zs[None, :, :]) ** 2).sum(axis=2)))
    candidates = []
    best = None
    for k in range(2, min(k_max, len(windows) - 1) + 1):
        centers, inertia = fit(k, seed)
        labels, _ = nearest(z, centers)
        s = silhouette(dist, labels[sample])
        candidates.append({"k": k, "silhouette": s, "inertia": inertia})
        if best is None or s > best[0] + 1e-12:
            best = (s, k, centers)
    if cached is not None:
        cached.unpersist()
    if best is None:
        return None
    _, k, centers = best
    labels, d2 = nearest(z, centers)
    dist_c = np.sqrt(d2)
    ds = sorted(dist_c.tolist())
    q1, q3 = quantile_sorted(ds, 0.25), quantile_sorted(ds, 0.75)
    threshold = q3 + 3 * (q3 - q1)
    sizes = [int((labels == c).sum()) for c in range(k)]
    tiny_max = max(2, math.ceil(0.01 * len(windows)))
    # Same rule as core/analytics/cluster.ts: among fewer than 30 windows no cluster is "tiny".
    tiny = [] if len(windows) < 30 else [c for c, s in enumerate(sizes) if s <= tiny_max]
    # Scatter coordinates: first two principal components.
    zc = z - z.mean(axis=0)
    _, _, vt = np.linalg.svd(zc, full_matrices=False)
    xy = zc @ vt[:2].T if vt.shape[0] >= 2 else np.column_stack([zc @ vt[:1].T, np.zeros(len(zc))])
    points = [
        {"time": int(times[i]), "cluster": int(labels[i]), "distance": float(dist_c[i]), "x": float(xy[i, 0]), "y": float(xy[i, 1])}
        for i in range(len(windows))
    ]
    return {
        "site": site,
        "asset": asset,
        "windowMs": window_ms,
        "features": features,
        "criterion": "silhouette",
        "k": k,
        "candidates": candidates,
        "sizes": sizes,
        "distanceThreshold": threshold,
        "tinyClusterMax": tiny_max,
        "tinyClusters": tiny,
        "points": points,
        "outliers": [p for p in points if p["distance"] > threshold and p["distance"] > 1e-9],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archive", required=True)
    ap.add_argument("--from", dest="from_ms", type=int, required=True)
    ap.add_argument("--to", dest="to_ms", type=int, required=True)
    ap.add_argument("--bins", type=int, default=40)
    ap.add_argument("--assets", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--k-max", type=int, default=8)
    ap.add_argument("--split", type=int, help="start of the second drift period, ms (default: the middle)")
    ap.add_argument("--trend-window", type=int, help="trend window, ms (default: ~300 windows)")
    ap.add_argument("--cluster-window", type=int, help="clustering window, ms (default: >= 60 s, ~1500 windows)")
    ap.add_argument("--kmeans-driver-max", type=int, default=20_000,
                    help="an asset with more feature windows than this is clustered by Spark MLlib, not on the driver")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    spark = (
        SparkSession.builder.appName("retimuad-analyze")
        # Partition values stay text: an asset named "101" must not become a number.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    timings: dict[str, float] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn()
        timings[name] = timings.get(name, 0.0) + (time.perf_counter() - t0) * 1000
        return out

    readings_dir = a.archive.rstrip("/") + "/readings"
    df = spark.read.option("basePath", readings_dir).parquet(readings_dir)
    df = df.where((F.col("time") >= a.from_ms) & (F.col("time") <= a.to_ms))
    assets = [s for s in a.assets.split(",") if s]
    if assets:
        df = df.where(F.col("asset").isin(assets))
    # Three scans read it: kept in memory (spilling to disk) after the first.
    df = df.select("time", "site", "asset", "metric", "value", "unit").persist(StorageLevel.MEMORY_AND_DISK)
    span = a.to_ms - a.from_ms
    # The embedded engine passes its own window plan (analyze.ts planWindows) so both cut the same windows.
    split = a.split if a.split is not None else a.from_ms + span // 2
    bins = a.bins
    trend_w = a.trend_window or nice_window(span, 300)
    cluster_w = a.cluster_window or nice_window(span, 1500, 60_000)
    fine = trend_w if cluster_w % trend_w == 0 else cluster_w if trend_w % cluster_w == 0 else math.gcd(trend_w, cluster_w)
    keys = ["site", "asset", "metric"]

    # 1. One scan: count, mean, variance, min, max per (series, fine window).
    fine_rows = timed(
        "windows",
        lambda: df.groupBy(*keys, F.expr(f"(time - {a.from_ms}) div {fine}").alias("b"))
        .agg(
            F.min("unit").alias("unit"),
            F.count("*").alias("n"),
            F.avg("value").alias("m"),
            F.var_pop("value").alias("v"),
            F.min("value").alias("mn"),
            F.max("value").alias("mx"),
        )
        .collect(),
    )
    per_series: dict = defaultdict(list)
    extra: dict = {}
    for r in fine_rows:
        k = (r["site"], r["asset"], r["metric"])
        n = int(r["n"])
        per_series[k].append((int(r["b"]), (n, float(r["m"]), float(r["v"]) * n)))
        e = extra.get(k)
        if e is None:
            extra[k] = [r["unit"], float(r["mn"]), float(r["mx"])]
        else:
            e[0] = min(e[0], r["unit"]) if e[0] is not None and r["unit"] is not None else (e[0] or r["unit"])
            e[1] = min(e[1], float(r["mn"]))
            e[2] = max(e[2], float(r["mx"]))
    for w in per_series.values():
        w.sort(key=lambda x: x[0])
    series_keys = sorted(per_series)
    totals = {}
    for k in series_keys:
        acc = (0, 0.0, 0.0)
        for _, agg in per_series[k]:
            acc = merge(acc, agg)
        totals[k] = acc

    # 2. Exact percentiles in one sort: the ranks linear interpolation needs (DuckDB quantile_cont's rule).
    need = []
    for k in series_keys:
        n = totals[k][0]
        ranks = set()
        for _, q in PERCENTILES:
            pos = q * (n - 1)
            ranks.update({math.floor(pos) + 1, math.ceil(pos) + 1})
        need.extend((k[0], k[1], k[2], r) for r in ranks)

    def ranked():
        if not need:
            return []
        need_df = spark.createDataFrame(need, "site string, asset string, metric string, rn int")
        w = Window.partitionBy(*keys).orderBy("value")
        return (
            df.select(*keys, "value", F.row_number().over(w).alias("rn"))
            .join(F.broadcast(need_df), [*keys, "rn"])
            .select(*keys, "rn", "value")
            .collect()
        )

    at_rank: dict = {}
    for r in timed("percentiles", ranked):
        at_rank[(r["site"], r["asset"], r["metric"], int(r["rn"]))] = float(r["value"])
    stats = []
    for k in series_keys:
        n, mean, m2 = totals[k]
        pct = {}
        for name, q in PERCENTILES:
            pos = q * (n - 1)
            lo, hi = math.floor(pos), math.ceil(pos)
            vlo, vhi = at_rank[(*k, lo + 1)], at_rank[(*k, hi + 1)]
            pct[name] = vlo + (vhi - vlo) * (pos - lo)
        unit, mn, mx = extra[k]
        stats.append({
            "site": k[0], "asset": k[1], "metric": k[2], "unit": unit, "count": n, "mean": mean,
            "std": math.sqrt(max(0.0, m2 / (n - 1))) if n > 1 else 0.0, "min": mn, "max": mx, "percentiles": pct,
        })
    stat_by = {(s["site"], s["asset"], s["metric"]): s for s in stats}

    # 3. Histograms (+ per-period counts for drift): the bin expression of core/analytics/stats.ts binOf,
    #    against each series' [min, max] from step 1 (a broadcast table, no second aggregation).
    def hist():
        if not stats:
            return []
        rng = spark.createDataFrame([(s["site"], s["asset"], s["metric"], s["min"], s["max"]) for s in stats],
                                    "site string, asset string, metric string, lo double, hi double")
        j = df.join(F.broadcast(rng), keys)
        b = F.when(F.col("hi") > F.col("lo"), F.least(F.lit(bins - 1), F.greatest(F.lit(0), F.floor((F.col("value") - F.col("lo")) / (F.col("hi") - F.col("lo")) * bins)))).otherwise(0)
        return (
            j.withColumn("bin", b.cast("int"))
            .groupBy(*keys, "bin")
            .agg(F.count("*").alias("n"), F.sum(F.when(F.col("time") < split, 1).otherwise(0)).alias("nb"), F.min("time").alias("first"))
            .collect()
        )

    hist_rows = timed("histograms", hist)
    df.unpersist()
    hist_by = {}
    for k, s in stat_by.items():
        nb = bins if s["max"] > s["min"] else 1
        hist_by[k] = {
            "h": {"site": k[0], "asset": k[1], "metric": k[2], "lo": s["min"], "hi": s["max"], "width": (s["max"] - s["min"]) / bins if s["max"] > s["min"] else 0,
                  "counts": [0] * nb, "firstTime": [None] * nb, "outlierBins": []},
            "before": [0] * bins, "after": [0] * bins,
        }
    for r in hist_rows:
        e = hist_by.get((r["site"], r["asset"], r["metric"]))
        if e is None:
            continue
        i = int(r["bin"])
        e["h"]["counts"][i] = int(r["n"])
        e["h"]["firstTime"][i] = int(r["first"])
        e["before"][i] = int(r["nb"])
        e["after"][i] = int(r["n"]) - int(r["nb"])
    histograms = []
    for s in stats:
        e = hist_by[(s["site"], s["asset"], s["metric"])]
        e["h"]["outlierBins"] = flag_outlier_bins(e["h"]["lo"], e["h"]["width"], e["h"]["counts"], s["percentiles"])
        histograms.append(e["h"])

    # 4. Drift, trends and clustering features: merges of the fine windows (the split lies on a fine edge).
    t0 = time.perf_counter()
    split_b = (split - a.from_ms) / fine
    trend_ratio, cluster_ratio = trend_w // fine, cluster_w // fine
    drifts, trends = [], []
    per_asset = defaultdict(lambda: {"metrics": set(), "windows": defaultdict(dict)})
    for k in series_keys:
        wins = per_series[k]
        before, after = (0, 0.0, 0.0), (0, 0.0, 0.0)
        for b, agg in wins:
            if b < split_b:
                before = merge(before, agg)
            else:
                after = merge(after, agg)
        if before[0] > 0 and after[0] > 0:
            pb, pa = period_of(before), period_of(after)
            e = hist_by[k]
            drifts.append({"site": k[0], "asset": k[1], "metric": k[2], "splitTime": split, "before": pb, "after": pa,
                           **drift_between(pb, pa, e["before"], e["after"])})
        pts = [(b, m[1]) for b, m in group_windows(wins, trend_ratio)]
        means = [m for _, m in pts]
        rolling = []
        acc = 0.0
        for i, m in enumerate(means):
            acc += m
            if i >= 10:
                acc -= means[i - 10]
            rolling.append(acc / min(i + 1, 10))
        trends.append({
            "site": k[0], "asset": k[1], "metric": k[2], "windowMs": trend_w, "rollingWindows": 10,
            "points": [{"time": a.from_ms + b * trend_w, "mean": m, "rolling": rolling[i]} for i, (b, m) in enumerate(pts)],
            "slopePerHour": slope([b * trend_w / 3_600_000 for b, _ in pts], means),
        })
        e = per_asset[(k[0], k[1])]
        e["metrics"].add(k[2])
        for b, m in group_windows(wins, cluster_ratio):
            e["windows"][b][k[2]] = (m[1], math.sqrt(max(0.0, m[2] / m[0])))
    timings["windows"] += (time.perf_counter() - t0) * 1000

    # 5. K-Means per asset over per-window features.
    clusterings = []
    t0 = time.perf_counter()
    for (site, asset) in sorted(per_asset):
        e = per_asset[(site, asset)]
        metrics = sorted(e["metrics"])
        features = [f"{m}:{s}" for m in metrics for s in ("mean", "std")]
        windows = [
            (a.from_ms + b * cluster_w, [v for m in metrics for v in w[m]])
            for b, w in sorted(e["windows"].items())
            if len(w) == len(metrics)
        ]
        c = cluster_asset(spark, site, asset, cluster_w, features, windows, a.seed, a.k_max, a.kmeans_driver_max)
        if c is not None:
            clusterings.append(c)
    timings["kmeans"] = (time.perf_counter() - t0) * 1000

    result = {
        "engine": "spark", "from": a.from_ms, "to": a.to_ms, "histogramBins": bins, "stats": stats, "histograms": histograms,
        "trends": trends, "drifts": drifts, "clusterings": clusterings, "timingsMs": timings,
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(result, f)
    spark.stop()


if __name__ == "__main__":
    main()
