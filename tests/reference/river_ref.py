"""River reference outputs for RETIMU-AD's drift detectors and Half-Space Trees.

Reads one JSON request (or a JSON array of them, answered by an array: River's import is slow,
so tests batch their streams into one process) from stdin and prints the answer to stdout:
  {"detector": "page_hinkley" | "ddm" | "eddm" | "adwin" | "hst",
   "params": {...River constructor keyword arguments...},
   "values": [x, ...]            # scalars for drift detectors, lists of floats for hst
  }
Drift detectors -> {"drifts": [index, ...], "warnings": [index, ...], "seconds": t}
hst             -> {"scores": [score_before_learning, ...], "seconds": t, "build_seconds": b, "updates": n}
                   (score_one then learn_one per row; `seconds` times rows 2.. as the first grows the trees)

Example: echo '{"detector":"adwin","params":{},"values":[0,0,1]}' | python3 tests/reference/river_ref.py
"""
import json
import sys
import time


def main() -> None:
    try:
        import river  # noqa: F401
        from river import anomaly, drift
    except ImportError:
        sys.stderr.write("river is not installed: pip install -r tests/reference/requirements.txt\n")
        sys.exit(3)

    req = json.load(sys.stdin)
    if isinstance(req, list):
        json.dump([run(r, anomaly, drift) for r in req], sys.stdout)
    else:
        json.dump(run(req, anomaly, drift), sys.stdout)


def run(req, anomaly, drift):
    import river

    name = req["detector"]
    params = req.get("params", {})
    values = req["values"]

    if name == "hst":
        model = anomaly.HalfSpaceTrees(**params)
        rows = [{i: float(v) for i, v in enumerate(row)} for row in values]
        scores = []
        # River grows its trees on the first learn_one: timed apart, so `seconds` is update throughput.
        b0 = time.perf_counter()
        if rows:
            scores.append(model.score_one(rows[0]))
            model.learn_one(rows[0])
        build_seconds = time.perf_counter() - b0
        t0 = time.perf_counter()
        for x in rows[1:]:
            scores.append(model.score_one(x))
            model.learn_one(x)
        seconds = time.perf_counter() - t0
        return {"scores": scores, "seconds": seconds, "build_seconds": build_seconds, "updates": max(0, len(rows) - 1), "river": river.__version__}

    makers = {
        "page_hinkley": drift.PageHinkley,
        "ddm": drift.binary.DDM,
        "eddm": drift.binary.EDDM,
        "adwin": drift.ADWIN,
    }
    if name not in makers:
        raise SystemExit(f"unknown detector {name!r}; expected one of {sorted(makers) + ['hst']}")
    det = makers[name](**params)
    drifts, warnings = [], []
    t0 = time.perf_counter()
    for i, x in enumerate(values):
        det.update(x)
        if det.drift_detected:
            drifts.append(i)
        if getattr(det, "warning_detected", False):
            warnings.append(i)
    seconds = time.perf_counter() - t0
    return {"drifts": drifts, "warnings": warnings, "seconds": seconds, "river": river.__version__}


if __name__ == "__main__":
    main()
