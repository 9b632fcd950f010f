"""Spark Structured Streaming over the RETIMU-AD Kafka topics: windowed aggregates and checks.

Reads the readings topic(s) (event JSON as written by the `kafka` sink, `retimuad ingest` and
`retimuad simulate --to kafka`), computes per (site, asset, metric) and event-time window (with a
watermark) the count, mean, sample standard deviation, min, max and sum, and then:

- writes every finished window to InfluxDB 1.x (line protocol, POST /write, precision ms) as the
  measurement `window_aggregates` (docs/stack.md);
- evaluates the configured checks on each finished window and writes the anomalies, in the
  Anomaly schema of packages/core/src/schema/events.ts (detector type `spark_threshold`,
  `spark_count` or `spark_rule`, modality `reading`), to the anomalies topic, keyed `site/asset`.

Checks (validated by the TypeScript side, packages/engine/src/spark/config.ts, which passes the
resolved config as JSON):
- threshold: `on: mean` judges the window mean, `on: value` any single value (window max for
  `above`, min for `below`);
- count: window count below `min` or above `max`; with `min >= 1` a window with no readings at
  all (silence) is reported too, for series seen before, once the watermark has passed it;
- rule: a boolean expression over count, mean, std, min, max, sum (e.g. `std > 5 and count >= 10`).

Windows are emitted in append mode (once the watermark passes their end), so each is judged once;
the ids of anomalies are deterministic (check, series, window), so a replay after a crash writes
the same records again (at-least-once, de-duplicated by id downstream).

Usage:
  spark-submit --jars <spark-kafka.sh jars> spark/jobs/stream.py --config config.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from fnmatch import fnmatchcase

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

AGG_NAMES = ("count", "mean", "std", "min", "max", "sum")

# ---------------------------------------------------------------------------------------------
# The rule language: numbers, the aggregate names, + - * / and parentheses, comparisons
# (< <= > >= == !=), and/or/not. Tiny on purpose: it is parsed, never eval()'d. The TypeScript
# validator (packages/engine/src/spark/rule.ts) implements the same grammar.

TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|(<=|>=|==|!=|[<>()+\-*/]))")


class RuleError(ValueError):
    pass


def tokenize(src: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise RuleError(f"unexpected character {src[pos:].lstrip()[:1]!r} at {pos + 1}")
        num, ident, op = m.groups()
        at = m.start(m.lastindex or 0) + 1
        out.append(("num", num, at) if num else ("id", ident, at) if ident else ("op", op, at))
        pos = m.end()
    return out


def parse_rule(src: str):
    toks = tokenize(src)
    i = 0

    def peek():
        return toks[i] if i < len(toks) else ("end", "", len(src) + 1)

    def take():
        nonlocal i
        t = peek()
        i += 1
        return t

    def disj():
        left = conj()
        while peek()[:2] == ("id", "or"):
            take()
            left = ("or", left, conj())
        return left

    def conj():
        left = neg()
        while peek()[:2] == ("id", "and"):
            take()
            left = ("and", left, neg())
        return left

    def neg():
        if peek()[:2] == ("id", "not"):
            take()
            return ("not", neg())
        return comparison()

    def comparison():
        left = additive()
        if peek()[0] == "op" and peek()[1] in ("<", "<=", ">", ">=", "==", "!="):
            op = take()[1]
            return ("cmp", op, left, additive())
        return left

    def additive():
        left = term()
        while peek()[0] == "op" and peek()[1] in "+-":
            op = take()[1]
            left = ("arith", op, left, term())
        return left

    def term():
        left = unary()
        while peek()[0] == "op" and peek()[1] in "*/":
            op = take()[1]
            left = ("arith", op, left, unary())
        return left

    def unary():
        if peek()[:2] == ("op", "-"):
            take()
            return ("arith", "-", ("num", 0.0), unary())
        return atom()

    def atom():
        kind, text, at = take()
        if kind == "num":
            return ("num", float(text))
        if kind == "id" and text in AGG_NAMES:
            return ("var", text)
        if (kind, text) == ("op", "("):
            e = disj()
            if take()[1] != ")":
                raise RuleError(f"expected ')' at {peek()[2]}")
            return e
        raise RuleError(f"unexpected {text or 'end'!r} at {at}; expected a number, one of {', '.join(AGG_NAMES)} or '('")

    tree = typed(disj())
    if i < len(toks):
        raise RuleError(f"unexpected {peek()[1]!r} at {peek()[2]}")
    if not is_bool(tree):
        raise RuleError("the rule must be a comparison, e.g. 'std > 5'")
    return tree


def typed(node):
    """Booleans and numbers do not mix (`(a > 1) + 2`, `count and std`), as in the TS validator."""
    k = node[0]
    if k in ("arith", "cmp"):
        for child in node[2:]:
            if is_bool(typed(child)):
                raise RuleError("expected a number here, got a condition")
    elif k in ("and", "or", "not"):
        for child in node[1:]:
            if not is_bool(typed(child)):
                raise RuleError("expected a condition (a comparison such as std > 5), got a number")
    return node


def is_bool(node) -> bool:
    return node[0] in ("cmp", "and", "or", "not")


def evaluate(node, env: dict):
    """Numbers and booleans; None (a missing std, a division by zero) makes a comparison false."""
    k = node[0]
    if k == "num":
        return node[1]
    if k == "var":
        return env.get(node[1])
    if k == "arith":
        a, b = evaluate(node[2], env), evaluate(node[3], env)
        if a is None or b is None:
            return None
        op = node[1]
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return None if b == 0 else a / b
    if k == "cmp":
        a, b = evaluate(node[2], env), evaluate(node[3], env)
        if a is None or b is None:
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[node[1]]
    if k == "not":
        return not evaluate(node[1], env)
    if k == "and":
        return bool(evaluate(node[1], env)) and bool(evaluate(node[2], env))
    return bool(evaluate(node[1], env)) or bool(evaluate(node[2], env))


# ---------------------------------------------------------------------------------------------
# Checks on one finished window.


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt(x: float) -> str:
    return f"{x:.6g}"


def selected(check: dict, asset: str, metric: str) -> bool:
    return any(fnmatchcase(asset, p) for p in check["assets"]) and any(fnmatchcase(metric, p) for p in check["metrics"])


def anomaly_id(check_id: str, site: str, asset: str, metric: str, start: int) -> str:
    aid = f"spark:{check_id}:{site}/{asset}/{metric}:{start}"
    # The schema bounds ids at 200 characters: long names keep a digest instead.
    return aid if len(aid) <= 200 else f"spark:{check_id[:60]}:{hashlib.sha256(aid.encode()).hexdigest()}:{start}"


def excess_score(value: float, limit: float) -> float:
    """0.5 at the limit, towards 1 as the excess grows relative to the limit's magnitude."""
    rel = abs(value - limit) / max(abs(limit), 1e-9)
    return min(1.0, 0.5 + 0.5 * min(1.0, rel))


def make_anomaly(check: dict, w: dict, score: float, reason: str, value) -> dict:
    a = {
        "id": anomaly_id(check["id"], w["site"], w["asset"], w["metric"], w["start"]),
        "time": w["end"],
        "site": w["site"],
        "asset": w["asset"],
        "detector": check["id"],
        "detectorType": f"spark_{check['type']}",
        "modality": "reading",
        "metric": w["metric"],
        "score": round(min(1.0, max(0.0, score)), 6),
        "severity": check["severity"],
        "reason": reason,
        "detail": {
            "window_start": w["start"],
            "window_end": w["end"],
            "count": w["count"],
            **{k: w[k] for k in ("mean", "std", "min", "max") if w.get(k) is not None},
        },
    }
    if w.get("stage"):
        a["stage"] = w["stage"]
    if value is not None and math.isfinite(value):
        a["value"] = value
    return a


def judge(check: dict, w: dict, window_secs: float, rules: dict) -> dict | None:
    where = f"{w['asset']}/{w['metric']}"
    span = f"in the {fmt(window_secs)} s window from {iso(w['start'])}"
    t = check["type"]
    if t == "threshold":
        on = check["on"]
        hi = w["max"] if on == "value" else w["mean"]
        lo = w["min"] if on == "value" else w["mean"]
        name = "max" if on == "value" else "mean"
        if check.get("above") is not None and hi is not None and hi > check["above"]:
            return make_anomaly(check, w, excess_score(hi, check["above"]), f"{where} {name} {fmt(hi)} > {fmt(check['above'])} {span}", hi)
        name = "min" if on == "value" else "mean"
        if check.get("below") is not None and lo is not None and lo < check["below"]:
            return make_anomaly(check, w, excess_score(lo, check["below"]), f"{where} {name} {fmt(lo)} < {fmt(check['below'])} {span}", lo)
        return None
    if t == "count":
        n = w["count"]
        if check.get("min") is not None and n < check["min"]:
            what = "no readings" if n == 0 else f"{n} reading(s)"
            return make_anomaly(check, w, 1.0 if n == 0 else excess_score(n, check["min"]), f"{where}: {what}, expected at least {check['min']}, {span}", float(n))
        if check.get("max") is not None and n > check["max"]:
            return make_anomaly(check, w, excess_score(n, check["max"]), f"{where}: {n} readings, expected at most {check['max']}, {span}", float(n))
        return None
    tree = rules[check["id"]]
    if evaluate(tree, w):
        shown = ", ".join(f"{k} {fmt(w[k]) if isinstance(w[k], float) else w[k]}" for k in AGG_NAMES if w.get(k) is not None)
        reason = check.get("reason") or f"{where}: {check['expr']}"
        return make_anomaly(check, w, check.get("score", 0.8), f"{reason} ({shown}) {span}", w.get("mean"))
    return None


# ---------------------------------------------------------------------------------------------
# Silence: a window with no readings produces no row at all, so it is inferred. The watermark is
# global, so once a batch emits windows starting at F, every window of every series that starts at
# or before F has been emitted; a series seen before with no window at some start s <= F was
# silent there. State (the last window start seen per series) lives beside the checkpoint.


class SilenceTracker:
    def __init__(self, path: str, step_ms: int):
        self.path, self.step = path, step_ms
        self.last: dict[str, list] = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            if saved.get("step_ms") == step_ms:
                self.last = saved["series"]

    def gaps(self, windows: list[dict], limit_per_series: int = 1000) -> list[dict]:
        """Empty windows (count 0) of known series up to the frontier of this batch."""
        if not windows:
            return []
        frontier = max(w["start"] for w in windows)
        present: dict[str, set] = {}
        meta: dict[str, dict] = {}
        for w in windows:
            key = f"{w['site']}\u0000{w['asset']}\u0000{w['metric']}"
            present.setdefault(key, set()).add(w["start"])
            meta[key] = w
        for key, starts in present.items():
            if key not in self.last:
                # First sight of a series: its silence starts counting from its first window.
                w = meta[key]
                self.last[key] = [min(starts) - self.step, w["site"], w["asset"], w["metric"], w.get("stage")]
        out = []
        for key, (last, site, asset, metric, stage) in list(self.last.items()):
            s, n = last + self.step, 0
            while s <= frontier and n < limit_per_series:
                if s not in present.get(key, ()):
                    out.append({"site": site, "asset": asset, "metric": metric, "stage": stage, "start": s,
                                "end": s + self.step, "count": 0, "mean": None, "std": None, "min": None,
                                "max": None, "sum": None})
                    n += 1
                s += self.step
            self.last[key][0] = max(last, frontier)
        return out

    def save(self) -> None:
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"step_ms": self.step, "series": self.last}, f)
        os.replace(tmp, self.path)


# ---------------------------------------------------------------------------------------------
# InfluxDB 1.x line protocol.


def esc_tag(s: str) -> str:
    return s.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def esc_measurement(s: str) -> str:
    return s.replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ")


def line_of(measurement: str, window_secs: float, w: dict) -> str:
    tags = [f"site={esc_tag(w['site'])}", f"asset={esc_tag(w['asset'])}", f"metric={esc_tag(w['metric'])}", f"window_secs={fmt(window_secs)}"]
    if w.get("stage"):
        tags.append(f"stage={esc_tag(w['stage'])}")
    fields = [f"count={w['count']}i"] + [f"{k}={repr(float(w[k]))}" for k in ("mean", "std", "min", "max", "sum") if w.get(k) is not None and math.isfinite(w[k])]
    return f"{esc_measurement(measurement)},{','.join(sorted(tags))} {','.join(fields)} {w['start']}"


def influx_post(cfg: dict, path: str, params: dict, body: bytes | None) -> None:
    url = f"{cfg['url'].rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
    delay = 0.2
    for attempt in range(cfg.get("max_retries", 5) + 1):
        try:
            req = urllib.request.Request(url, data=body if body is not None else b"", method="POST")
            with urllib.request.urlopen(req, timeout=cfg.get("timeout_secs", 10)) as r:
                r.read()
            return
        except urllib.error.HTTPError as e:
            # 4xx other than 408/429 will not get better by retrying.
            if e.code < 500 and e.code not in (408, 429) or attempt == cfg.get("max_retries", 5):
                raise RuntimeError(f"InfluxDB {path} answered {e.code}: {e.read()[:300].decode(errors='replace')}") from e
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            if attempt == cfg.get("max_retries", 5):
                raise RuntimeError(f"InfluxDB {cfg['url']}{path}: {e}") from e
        time.sleep(delay)
        delay = min(delay * 2, 5)


def write_influx(cfg: dict, lines: list[str]) -> None:
    for i in range(0, len(lines), 5000):
        influx_post(cfg, "/write", {"db": cfg["database"], "precision": "ms"}, "\n".join(lines[i : i + 5000]).encode())


# ---------------------------------------------------------------------------------------------


READING = T.StructType(
    [
        T.StructField("kind", T.StringType()),
        T.StructField("time", T.DoubleType()),
        T.StructField("site", T.StringType()),
        T.StructField("asset", T.StringType()),
        T.StructField("stage", T.StringType()),
        T.StructField("metric", T.StringType()),
        T.StructField("value", T.DoubleType()),
        T.StructField("quality", T.StringType()),
    ]
)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="resolved config JSON (from retimuad spark-stream)")
    args = ap.parse_args(argv)
    with open(args.config, encoding="utf-8") as f:
        cfg = json.load(f)

    rules = {c["id"]: parse_rule(c["expr"]) for c in cfg["checks"] if c["type"] == "rule"}
    kafka, win = cfg["kafka"], cfg["window"]
    size_s, slide_s = win["size_secs"], win.get("slide_secs") or win["size_secs"]
    os.makedirs(cfg["checkpoint_dir"], exist_ok=True)
    silence = SilenceTracker(os.path.join(cfg["checkpoint_dir"], "retimuad-series.json"), int(slide_s * 1000))
    silent_checks = [c for c in cfg["checks"] if c["type"] == "count" and (c.get("min") or 0) >= 1]
    influx = cfg.get("influxdb")

    spark = SparkSession.builder.appName("retimuad-stream").getOrCreate()
    if influx and influx.get("create_database", True):
        influx_post(influx, "/query", {"q": f'CREATE DATABASE "{influx["database"]}"'}, None)

    src = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", kafka["brokers"])
        .option("subscribe", ",".join(kafka["topics"]))
        .option("startingOffsets", kafka.get("starting_offsets", "earliest"))
        .option("failOnDataLoss", "false")
    )
    for k, v in kafka.get("options", {}).items():
        src = src.option(f"kafka.{k}", v)
    if kafka.get("max_offsets_per_trigger"):
        src = src.option("maxOffsetsPerTrigger", str(kafka["max_offsets_per_trigger"]))
    events = (
        src.load()
        .select(F.from_json(F.col("value").cast("string"), READING).alias("e"))
        .select("e.*")
        # Other kinds share no topic with readings normally; bad-quality values are not judged.
        .where((F.col("kind") == "reading") & F.col("metric").isNotNull() & F.col("value").isNotNull() & ~F.isnan("value") & (F.coalesce(F.col("quality"), F.lit("good")) != "bad"))
        .withColumn("ts", F.timestamp_millis(F.col("time").cast("long")))
        .withWatermark("ts", f"{win['watermark_secs']} seconds")
    )
    windows = events.groupBy(F.window("ts", f"{size_s} seconds", f"{slide_s} seconds").alias("w"), "site", "asset", "metric").agg(
        F.count("value").alias("count"),
        F.avg("value").alias("mean"),
        F.stddev_samp("value").alias("std"),
        F.min("value").alias("min"),
        F.max("value").alias("max"),
        F.sum("value").alias("sum"),
        F.first("stage", ignorenulls=True).alias("stage"),
    )
    windows = windows.select(
        F.unix_millis(F.col("w.start")).alias("start"), F.unix_millis(F.col("w.end")).alias("end"), "site", "asset", "metric", "stage", "count", "mean", "std", "min", "max", "sum"
    )
    state = {"batches": 0}

    def per_batch(df, batch_id: int) -> None:
        t0 = time.time()
        # A finished window is one row per series: a batch holds series × windows rows, small
        # enough for the driver; the checks are plain Python on them.
        rows = [r.asDict() for r in df.collect()]
        for w in rows:
            w["count"] = int(w["count"])
        if influx and rows:
            write_influx(influx, [line_of(influx["measurement"], size_s, w) for w in rows])
        found = []
        for w in rows:
            for c in cfg["checks"]:
                if selected(c, w["asset"], w["metric"]):
                    a = judge(c, w, size_s, rules)
                    if a is not None:
                        found.append(a)
        for w in silence.gaps(rows):
            for c in silent_checks:
                if selected(c, w["asset"], w["metric"]):
                    a = judge(c, w, size_s, rules)
                    if a is not None:
                        found.append(a)
        if found:
            out = spark.createDataFrame([(f"{a['site']}/{a['asset']}", json.dumps(a, separators=(",", ":"))) for a in found], "key string, value string")
            sink = out.write.format("kafka").option("kafka.bootstrap.servers", kafka["brokers"]).option("topic", kafka["anomalies_topic"])
            for k, v in kafka.get("options", {}).items():
                sink = sink.option(f"kafka.{k}", v)
            sink.save()
        silence.save()
        state["batches"] += 1
        print(json.dumps({"batch": batch_id, "windows": len(rows), "anomalies": len(found), "ms": round((time.time() - t0) * 1000)}), flush=True)

    writer = windows.writeStream.outputMode("append").option("checkpointLocation", os.path.join(cfg["checkpoint_dir"], "spark")).foreachBatch(per_batch)
    trig = cfg.get("trigger", {"mode": "available_now"})
    if trig["mode"] == "available_now":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{trig['interval_secs']} seconds")
    query = writer.start()
    max_batches = trig.get("max_batches")
    if max_batches:
        # Stop after N batches (tests, bounded catch-up); otherwise run until stopped.
        def watch() -> None:
            while query.isActive:
                if state["batches"] >= max_batches:
                    query.stop()
                    return
                time.sleep(0.2)

        threading.Thread(target=watch, daemon=True).start()
    query.awaitTermination()
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
