"""drain3 (logpai/Drain3) as the reference log template miner for RETIMU-AD's benchmark and tests.

Reads one JSON request from stdin and prints the answer to stdout:
  {"messages": ["line", ...],
   "config": {"sim_th": 0.4, "depth": 4, "max_children": 100, "max_clusters": 2000},
   "masking": true,          # drain3's example masking (IP, HEX, NUM, ...) from its drain3.ini
   "reps": 1}                # passes, each with a fresh miner; the fastest is reported
-> {"ids": [cluster_id per message], "templates": {"id": "template", ...},
    "seconds": t, "wall_seconds": w, "lines": n, "drain3": "0.9.11"}
`seconds` is the CPU time (time.process_time) of the add_log_message loop only (not the import,
the JSON or the process start), the least over the passes; `wall_seconds` the wall time of that
pass. CPU time, best of N, is how the benchmark times our miner too: it is less disturbed by
other processes on a shared machine than wall time.

Example: echo '{"messages":["a 1","a 2"]}' | python3 tests/reference/drain3_ref.py
"""
import json
import sys
import time

# drain3's own example masking (examples/drain3.ini of its repository), minus the app-specific CMD rule.
MASKING = [
    {"regex_pattern": r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "mask_with": "ID"},
    {"regex_pattern": r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "mask_with": "IP"},
    {"regex_pattern": r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "mask_with": "SEQ"},
    {"regex_pattern": r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "mask_with": "SEQ"},
    {"regex_pattern": r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "mask_with": "HEX"},
    {"regex_pattern": r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "mask_with": "NUM"},
]


def main() -> None:
    try:
        from importlib.metadata import version

        from drain3 import TemplateMiner
        from drain3.masking import MaskingInstruction
        from drain3.template_miner_config import TemplateMinerConfig
    except ImportError:
        sys.stderr.write("drain3 is not installed: pip install -r tests/reference/requirements.txt\n")
        sys.exit(3)

    req = json.load(sys.stdin)
    cfg_in = req.get("config", {})
    cfg = TemplateMinerConfig()
    cfg.drain_sim_th = float(cfg_in.get("sim_th", 0.4))
    cfg.drain_depth = int(cfg_in.get("depth", 4))
    cfg.drain_max_children = int(cfg_in.get("max_children", 100))
    cfg.drain_max_clusters = cfg_in.get("max_clusters", None)
    cfg.profiling_enabled = False
    if req.get("masking", True):
        cfg.masking_instructions = [MaskingInstruction(m["regex_pattern"], m["mask_with"]) for m in MASKING]
    messages = req["messages"]
    seconds = wall_seconds = float("inf")
    for _ in range(max(1, int(req.get("reps", 1)))):
        miner = TemplateMiner(config=cfg)
        ids = []
        w0 = time.perf_counter()
        t0 = time.process_time()
        for m in messages:
            ids.append(miner.add_log_message(m)["cluster_id"])
        cpu = time.process_time() - t0
        if cpu < seconds:
            seconds, wall_seconds = cpu, time.perf_counter() - w0
    templates = {str(c.cluster_id): c.get_template() for c in miner.drain.clusters}
    json.dump({"ids": ids, "templates": templates, "seconds": seconds, "wall_seconds": wall_seconds, "lines": len(messages), "drain3": version("drain3")}, sys.stdout)


if __name__ == "__main__":
    main()
