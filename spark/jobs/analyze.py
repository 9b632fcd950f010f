"""Batch analyses of the RETIMU-AD Parquet archive on Apache Spark.

The same analyses as the embedded engine (packages/engine/src/analytics/analyze.ts), written as
the same JSON (AnalysisResult in packages/core/src/analytics/types.ts), so one report renderer and
one findings builder serve both engines and the parity test compares like with like:

- summary statistics per (site, asset, metric): count, mean, sample std, min, max and exact
  percentiles with linear interpolation (Spark `percentile`, like DuckDB `quantile_cont`);
- histograms over [min, max] with the same bin expression, outlier bins flagged by the same rule;
- drift between [from, split) and [split, to]: Cohen's d, std ratio, PSI over the histogram bins;
- trends: window means, rolling mean, least-squares slope per hour;
- K-Means (Spark MLlib) over per-window mean/std features of each asset's channels, standardised,
  k in [2, 8] chosen by the highest silhouette (MLlib ClusteringEvaluator), points farther than
  the Tukey far fence of the distances flagged, clusters of at most max(2, 1 %) windows "tiny".

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
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.sql import SparkSession
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


def cluster_asset(spark, site, asset, window_ms, features, windows, seed, k_max):
    """MLlib K-Means over standardised window vectors; k by silhouette; outliers and tiny clusters as in core/analytics/cluster.ts."""
    if len(windows) < 4 or not features:
        return None
    times = [t for t, _ in windows]
    x = np.array([v for _, v in windows], dtype=float)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std <= 1e-12] = 1.0
    z = (x - mean) / std
    df = spark.createDataFrame([(i, Vectors.dense(row.tolist())) for i, row in enumerate(z)], ["i", "features"]).cache()
    evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="prediction", metricName="silhouette")
    candidates = []
    best = None
    for k in range(2, min(k_max, len(windows) - 1) + 1):
        # Best of three seeded restarts by within-cluster sum of squares, as the embedded engine does (nInit = 3).
        model = min(
            (KMeans(k=k, seed=seed + r * 7919, maxIter=100, tol=1e-10, featuresCol="features").fit(df) for r in range(3)),
            key=lambda m: m.summary.trainingCost,
        )
        pred = model.transform(df)
        s = evaluator.evaluate(pred)
        inertia = float(model.summary.trainingCost)
        candidates.append({"k": k, "silhouette": s, "inertia": inertia})
        if best is None or s > best[0] + 1e-12:
            best = (s, k, model, pred)
    df.unpersist()
    if best is None:
        return None
    _, k, model, pred = best
    assign = {r["i"]: r["prediction"] for r in pred.select("i", "prediction").collect()}
    centers = np.array(model.clusterCenters())
    labels = np.array([assign[i] for i in range(len(windows))])
    dist = np.sqrt(((z - centers[labels]) ** 2).sum(axis=1))
    ds = sorted(dist.tolist())
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
        {"time": int(times[i]), "cluster": int(labels[i]), "distance": float(dist[i]), "x": float(xy[i, 0]), "y": float(xy[i, 1])}
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
    df = df.select("time", "site", "asset", "metric", "value", "unit").cache()
    span = a.to_ms - a.from_ms
    # The embedded engine passes its own window plan (analyze.ts planWindows) so both cut the same windows.
    split = a.split if a.split is not None else a.from_ms + span // 2
    bins = a.bins
    trend_w = a.trend_window or nice_window(span, 300)
    cluster_w = a.cluster_window or nice_window(span, 1500, 60_000)
    keys = ["site", "asset", "metric"]

    # 1. Summary statistics.
    qs = ", ".join(str(q) for _, q in PERCENTILES)
    stat_rows = timed(
        "stats",
        lambda: df.groupBy(*keys)
        .agg(
            F.min("unit").alias("unit"),
            F.count("*").alias("n"),
            F.avg("value").alias("mean"),
            F.coalesce(F.stddev_samp("value"), F.lit(0.0)).alias("std"),
            F.min("value").alias("mn"),
            F.max("value").alias("mx"),
            F.expr(f"percentile(value, array({qs}))").alias("q"),
        )
        .orderBy(*keys)
        .collect(),
    )
    stats = []
    for r in stat_rows:
        stats.append(
            {
                "site": r["site"], "asset": r["asset"], "metric": r["metric"], "unit": r["unit"], "count": int(r["n"]),
                "mean": float(r["mean"]), "std": float(r["std"] or 0.0), "min": float(r["mn"]), "max": float(r["mx"]),
                "percentiles": {name: float(v) for (name, _), v in zip(PERCENTILES, r["q"])},
            }
        )
    stat_by = {(s["site"], s["asset"], s["metric"]): s for s in stats}

    # 2. Histograms (+ per-period counts for drift): the bin expression of core/analytics/stats.ts binOf.
    def hist():
        rng = df.groupBy(*keys).agg(F.min("value").alias("lo"), F.max("value").alias("hi"))
        j = df.join(rng, keys)
        b = F.when(F.col("hi") > F.col("lo"), F.least(F.lit(bins - 1), F.greatest(F.lit(0), F.floor((F.col("value") - F.col("lo")) / (F.col("hi") - F.col("lo")) * bins)))).otherwise(0)
        return (
            j.withColumn("bin", b.cast("int"))
            .groupBy(*keys, "bin")
            .agg(F.count("*").alias("n"), F.sum(F.when(F.col("time") < split, 1).otherwise(0)).alias("nb"), F.min("time").alias("first"))
            .collect()
        )

    hist_rows = timed("histograms", hist)
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

    # 3. Drift between the halves.
    period_rows = timed(
        "drift",
        lambda: df.groupBy(*keys, (F.col("time") >= split).alias("after"))
        .agg(F.count("*").alias("n"), F.avg("value").alias("mean"), F.coalesce(F.stddev_samp("value"), F.lit(0.0)).alias("std"))
        .collect(),
    )
    periods = defaultdict(dict)
    for r in period_rows:
        periods[(r["site"], r["asset"], r["metric"])]["after" if r["after"] else "before"] = {"count": int(r["n"]), "mean": float(r["mean"]), "std": float(r["std"] or 0.0)}
    drifts = []
    for s in stats:
        k = (s["site"], s["asset"], s["metric"])
        p = periods.get(k, {})
        if "before" not in p or "after" not in p:
            continue
        e = hist_by[k]
        drifts.append({"site": k[0], "asset": k[1], "metric": k[2], "splitTime": split, "before": p["before"], "after": p["after"],
                       **drift_between(p["before"], p["after"], e["before"], e["after"])})

    # 4. Trends.
    trend_rows = timed(
        "trends",
        lambda: df.groupBy(*keys, F.expr(f"(time - {a.from_ms}) div {trend_w}").alias("b")).agg(F.avg("value").alias("m")).orderBy(*keys, "b").collect(),
    )
    series = defaultdict(list)
    for r in trend_rows:
        series[(r["site"], r["asset"], r["metric"])].append((int(r["b"]), float(r["m"])))
    trends = []
    for k in sorted(series):
        pts = series[k]
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

    # 5. K-Means per asset over per-window features.
    feat_rows = timed(
        "cluster_features",
        lambda: df.groupBy(*keys, F.expr(f"(time - {a.from_ms}) div {cluster_w}").alias("b"))
        .agg(F.avg("value").alias("m"), F.coalesce(F.stddev_pop("value"), F.lit(0.0)).alias("s"))
        .collect(),
    )
    per_asset = defaultdict(lambda: {"metrics": set(), "windows": defaultdict(dict)})
    for r in feat_rows:
        e = per_asset[(r["site"], r["asset"])]
        e["metrics"].add(r["metric"])
        e["windows"][int(r["b"])][r["metric"]] = (float(r["m"]), float(r["s"]))
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
        c = cluster_asset(spark, site, asset, cluster_w, features, windows, a.seed, a.k_max)
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
