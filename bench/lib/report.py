#!/usr/bin/env python3
"""Turns the raw measurements of bench/redirect.sh into a table and a JSON file.

usage: report.py RAW_JSON OUT_JSON

RAW_JSON holds {"meta": {...}, "servers": {"shortener": [run, ...], "nginx": [run, ...]}}; a run
has the wrk "BENCH_RESULT" object under "wrk", "cpu_ticks" (utime+stime of all the server's
processes over the measured run), "clk_tck" and "load_cpu_s" (wrk's own CPU). With several rounds
each figure is the median over the rounds (the rounds are kept in the JSON). Prints the table,
writes OUT_JSON. Exit 0 always; the verdict against the targets is in the output.
"""

import json
import statistics
import sys

# Targets of the foundation issue (later issues raise them).
TARGET_RPS_RATIO = 0.7  # shortener req/s >= 0.7 x nginx
TARGET_CPU_RATIO = 2.0  # shortener CPU per redirect <= 2 x nginx


def summarise(raw: dict) -> dict:
    wrk = raw["wrk"]
    requests = wrk["requests"]
    seconds = wrk["duration_us"] / 1e6
    cpu_s = raw["cpu_ticks"] / raw["clk_tck"]
    errors = wrk["errors"]
    return {
        "requests": requests,
        "duration_s": round(seconds, 3),
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(wrk["latency_us"]["p50"] / 1000, 3),
        "p90_ms": round(wrk["latency_us"]["p90"] / 1000, 3),
        "p99_ms": round(wrk["latency_us"]["p99"] / 1000, 3),
        "max_ms": round(wrk["latency_us"]["max"] / 1000, 3),
        "cpu_s": round(cpu_s, 3),
        "cpu_us_per_req": round(cpu_s * 1e6 / requests, 2) if requests else None,
        "cores_busy": round(cpu_s / seconds, 2) if seconds else None,
        "load_generator_cpu_s": raw.get("load_cpu_s"),
        "errors": errors,
        "bad_status": errors["status"],
        "processes": raw.get("pids"),
    }


def combine(runs: list[dict]) -> dict:
    """The median of every figure over the rounds; counts are summed."""
    if len(runs) == 1:
        return {**runs[0], "rounds": runs}
    out = {}
    for key in ("duration_s", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "cpu_s",
                "cpu_us_per_req", "cores_busy", "load_generator_cpu_s"):
        values = [r[key] for r in runs if r[key] is not None]
        out[key] = round(statistics.median(values), 3) if values else None
    out["requests"] = sum(r["requests"] for r in runs)
    out["errors"] = {k: sum(r["errors"][k] for r in runs) for k in runs[0]["errors"]}
    out["bad_status"] = out["errors"]["status"]
    out["processes"] = runs[0]["processes"]
    out["rounds"] = runs
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def main(argv: list[str]) -> int:
    raw_path, out_path = argv[1], argv[2]
    with open(raw_path) as f:
        raw = json.load(f)
    s = combine([summarise(r) for r in raw["servers"]["shortener"]])
    n = combine([summarise(r) for r in raw["servers"]["nginx"]])
    rps_ratio = ratio(s["rps"], n["rps"])
    cpu_ratio = ratio(s["cpu_us_per_req"], n["cpu_us_per_req"])
    valid = all(x["bad_status"] == 0 and x["errors"]["connect"] == 0 and x["requests"] > 0
                for x in (s, n))
    result = {
        **raw["meta"],
        "shortener": s,
        "nginx": n,
        "ratio": {"rps": rps_ratio, "cpu_per_req": cpu_ratio},
        "targets": {
            "rps_ratio_min": TARGET_RPS_RATIO,
            "cpu_ratio_max": TARGET_CPU_RATIO,
            "rps_ok": rps_ratio is not None and rps_ratio >= TARGET_RPS_RATIO,
            "cpu_ok": cpu_ratio is not None and cpu_ratio <= TARGET_CPU_RATIO,
        },
        "valid": valid,
    }
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    rows = [("", "shortener", "nginx", "shortener/nginx"),
            ("req/s", f"{s['rps']:,.0f}", f"{n['rps']:,.0f}", f"{rps_ratio}"),
            ("p50 latency ms", f"{s['p50_ms']:.3f}", f"{n['p50_ms']:.3f}",
             f"{ratio(s['p50_ms'], n['p50_ms'])}"),
            ("p99 latency ms", f"{s['p99_ms']:.3f}", f"{n['p99_ms']:.3f}",
             f"{ratio(s['p99_ms'], n['p99_ms'])}"),
            ("CPU-us/request", f"{s['cpu_us_per_req']}", f"{n['cpu_us_per_req']}", f"{cpu_ratio}"),
            ("server CPU s", f"{s['cpu_s']}", f"{n['cpu_s']}", ""),
            ("wrk CPU s", f"{s['load_generator_cpu_s']}", f"{n['load_generator_cpu_s']}", ""),
            ("requests", f"{s['requests']}", f"{n['requests']}", ""),
            ("non-3xx / errors", f"{s['bad_status']} / {sum(s['errors'].values()) - s['bad_status']}",
             f"{n['bad_status']} / {sum(n['errors'].values()) - n['bad_status']}", "")]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    meta = raw["meta"]
    rounds = meta.get("rounds", 1)
    print(f"\nredirect benchmark: wrk -t{meta['wrk_threads']} -c{meta['connections']} "
          f"-d{meta['duration']}, {meta['links']} links, {meta['cpus']} CPUs"
          + (f", median of {rounds} rounds" if rounds > 1 else ""))
    for r in rows:
        print("  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    verdict = lambda ok: "ok" if ok else "MISSED"
    print(f"\ntargets: req/s ratio >= {TARGET_RPS_RATIO}: {verdict(result['targets']['rps_ok'])}; "
          f"CPU ratio <= {TARGET_CPU_RATIO}: {verdict(result['targets']['cpu_ok'])}")
    if not valid:
        print("WARNING: errors or unexpected statuses during the run; figures are not comparable")
    print(f"results: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
