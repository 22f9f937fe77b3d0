#!/usr/bin/env python3
"""Table of bench/reference.sh: ours as multiples of the Node.js reference.

usage: reference_report.py META_JSON RESULTS_JSONL OUT_PREFIX

Prints the report and writes OUT_PREFIX.txt (the same text) and OUT_PREFIX.json (meta + raw
records + ratios). Standard library only.
"""

import json
import sys

GOAL = 10.0  # issue #4: >= 10x the reference's redirect throughput and click ingest rate


def fmt(v, digits=0):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def redirect_figures(r, clk_tck):
    if r is None or "unavailable" in r:
        return None
    w = r["wrk"]
    req = w["requests"]
    rps = req / (w["duration_us"] / 1e6)
    us = lambda ticks: ticks / clk_tck * 1e6 / req if req else None  # noqa: E731
    errors = w["errors"]
    return {
        "req/s": rps,
        "p50 latency ms": w["latency_us"]["p50"] / 1000,
        "p99 latency ms": w["latency_us"]["p99"] / 1000,
        "server CPU-us/request": us(r["server_ticks"]),
        "Redis CPU-us/request": us(r["redis_ticks"]),
        "PostgreSQL CPU-us/request": us(r["pg_ticks"]),
        "all CPU-us/request": us(r["server_ticks"] + r["redis_ticks"] + r["pg_ticks"]),
        "wrk CPU s": float(r["wrk_cpu_s"]),
        "requests": req,
        "non-3xx / errors": f"{errors['status']} / "
                            f"{errors['connect'] + errors['read'] + errors['write'] + errors['timeout']}",
    }


def ingest_figures(r, clk_tck):
    if r is None or "unavailable" in r:
        return None
    stored, secs = r["stored"], r["seconds"]
    steady = secs - r["first_row_s"]
    us = lambda ticks: ticks / clk_tck * 1e6 / stored if stored else None  # noqa: E731
    return {
        "clicks/s": stored / secs if secs else None,
        "clicks/s after 1st row": stored / steady if steady > 0 else None,
        "backlog": r["backlog"],
        "stored": stored,
        "seconds": secs,
        "first row after s": r["first_row_s"],
        "worker CPU-us/click": us(r["worker_ticks"]),
        "Redis CPU-us/click": us(r["redis_ticks"]),
        "PostgreSQL CPU-us/click": us(r["pg_ticks"]),
        "all CPU-us/click": us(r["worker_ticks"] + r["redis_ticks"] + r["pg_ticks"]),
        "status": r["status"],
    }


DIGITS = {"req/s": 0, "clicks/s": 0, "clicks/s after 1st row": 0, "p50 latency ms": 2,
          "p99 latency ms": 2, "wrk CPU s": 2, "seconds": 2, "first row after s": 2}
RATIOS = {"req/s": "x", "clicks/s": "x", "clicks/s after 1st row": "x",
          # CPU: how many times less CPU ours spends (node / ours)
          "server CPU-us/request": "inv", "all CPU-us/request": "inv",
          "worker CPU-us/click": "inv", "all CPU-us/click": "inv"}


def table(title, node, ours, ours_reason, lines, node_raw=None, ours_raw=None):
    lines.append(title)
    lines.append(f"  {'':28}{'node':>14}{'ours':>14}{'ours vs node':>16}")
    keys = list((node or ours or {}).keys())
    out = {}
    for k in keys:
        n = node.get(k) if node else None
        o = ours.get(k) if ours else None
        d = DIGITS.get(k, 1 if isinstance(n or o, float) else 0)
        rel = ""
        kind = RATIOS.get(k)
        if kind == "x" and ratio(o, n) is not None:
            out[k] = ratio(o, n)
            rel = f"{out[k]:.2f}x"
        elif kind == "inv" and ratio(n, o) is not None:
            out[k] = ratio(n, o)
            rel = f"{out[k]:.2f}x less"
        lines.append(f"  {k:28}{fmt(n, d):>14}{fmt(o, d) if ours else 'n/a':>14}{rel:>16}")
    if ours is None and ours_reason:
        lines.append(f"  ours: not available ({ours_reason})")
    for name, r in (("node", node_raw), ("ours", ours_raw)):
        if r and "load_before" in r:
            lines.append(f"  load average before the {name} run: {r['load_before']}")
    lines.append("")
    return out


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def redirect_rounds(records, clk_tck):
    """[(round, {system: figures})] of the redirect part, in round order."""
    by_round = {}
    for r in records:
        if r["part"] == "redirect" and "unavailable" not in r:
            by_round.setdefault(r.get("round", 1), {})[r["system"]] = redirect_figures(r, clk_tck)
    return sorted(by_round.items())


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    meta = json.load(open(argv[1]))
    records = [json.loads(line) for line in open(argv[2]) if line.strip()]
    clk = meta["clk_tck"]

    def find(part, system):
        """The record of PART for SYSTEM; of several redirect rounds, the median one by req/s."""
        found = [r for r in records if r["part"] == part and r["system"] == system]
        measured = [r for r in found if "unavailable" not in r]
        if part != "redirect" or len(measured) < 2:
            return found[0] if found else None
        measured.sort(key=lambda r: redirect_figures(r, clk)["req/s"])
        return measured[len(measured) // 2]

    reason = lambda part: (find(part, "ours") or {}).get("unavailable")  # noqa: E731
    lines = [
        f"reference benchmark (bench/reference.sh) {meta['timestamp']}, commit {meta['commit']}, "
        f"{meta['cpus']} CPUs, Node.js {meta['node_version']}",
        f"load average at start {meta['loadavg_start']}, at end {meta['loadavg_end']} "
        f"(uptime: {meta['uptime_end']})",
        "",
    ]
    ratios = {}
    node_r, ours_r = find("redirect", "node"), find("redirect", "ours")
    if node_r or ours_r:
        ratios["redirect"] = table(
            f"redirects: wrk -t{meta['wrk_threads']} -c{meta['connections']} -d{meta['duration']} "
            f"(warm-up {meta['warmup']}), {meta['links']} links, click workers stopped; "
            f"node API: {meta['node_api_processes']} processes"
            + (f"; pinned: {meta['pinned']}" if meta.get("pinned") else ""),
            redirect_figures(node_r, clk), redirect_figures(ours_r, clk), reason("redirect"), lines,
            node_r, ours_r)
    nginx_r = redirect_figures(find("redirect", "nginx"), clk)
    if nginx_r:
        # The same wrk run against nginx `return 302`: what this machine and load generator allow
        # at most, so what multiple of node any redirect server could show here.
        node_f, ours_f = redirect_figures(node_r, clk), redirect_figures(ours_r, clk)
        vs = lambda f, k: (f"{ratio(nginx_r[k], f[k]):.2f}x" if f and ratio(nginx_r[k], f[k])  # noqa: E731
                           else "n/a")
        lines.append(
            f"  ceiling: nginx `return 302`, same wrk run: {fmt(nginx_r['req/s'])} req/s "
            f"(= {vs(node_f, 'req/s')} node, {vs(ours_f, 'req/s')} ours), "
            f"{fmt(nginx_r['server CPU-us/request'], 1)} CPU-us/request, "
            f"wrk CPU {nginx_r['wrk CPU s']:.2f} s, {nginx_r['non-3xx / errors']} non-3xx / errors")
        lines.append("")
        ratios["redirect_ceiling_vs_node"] = ratio(nginx_r["req/s"], (node_f or {}).get("req/s"))
    node_i, ours_i = find("ingest", "node"), find("ingest", "ours")
    if node_i or ours_i:
        ratios["ingest"] = table(
            f"click ingest: backlog of ~{meta['clicks']} queued clicks, {meta['ingest_workers']} "
            f"worker processes (node: BullMQ concurrency {meta['node_concurrency']} each), "
            "until all are rows in PostgreSQL",
            ingest_figures(node_i, clk), ingest_figures(ours_i, clk), reason("ingest"), lines,
            node_i, ours_i)
    rounds = redirect_rounds(records, clk)
    if len(rounds) > 1:
        lines.append(f"redirect rounds (the systems took turns; the table above shows each "
                     f"system's median round):")
        lines.append(f"  {'round':>7}{'node req/s':>12}{'ours req/s':>12}{'nginx req/s':>13}"
                     f"{'ours/node':>11}{'nginx/node':>12}{'ours/nginx':>12}")
        for n, figures in rounds:
            get = lambda s: (figures.get(s) or {}).get("req/s")  # noqa: E731
            x = lambda a, b: f"{ratio(a, b):.2f}x" if ratio(a, b) else "-"  # noqa: E731
            lines.append(f"  {n:>7}{fmt(get('node')):>12}{fmt(get('ours')):>12}"
                         f"{fmt(get('nginx')):>13}{x(get('ours'), get('node')):>11}"
                         f"{x(get('nginx'), get('node')):>12}{x(get('ours'), get('nginx')):>12}")
        per_round = sorted(r for r in (ratio((f.get("ours") or {}).get("req/s"),
                                             (f.get("node") or {}).get("req/s"))
                                       for _, f in rounds) if r is not None)
        if per_round:
            ratios["redirect_rounds"] = per_round
            ratios.setdefault("redirect", {})["req/s"] = median(per_round)
            lines.append(f"  median ours/node over {len(per_round)} rounds: "
                         f"{median(per_round):.2f}x (range {per_round[0]:.2f}-{per_round[-1]:.2f}x)")
        lines.append("")
    goals = []
    for part, key in (("redirect", "req/s"), ("ingest", "clicks/s")):
        r = ratios.get(part, {}).get(key)
        if r is None:
            goals.append(f"{part} {key}: n/a")
        else:
            label = (f"{part} {key} (median of {len(ratios['redirect_rounds'])} rounds)"
                     if part == "redirect" and "redirect_rounds" in ratios else f"{part} {key}")
            goals.append(f"{label} {r:.2f}x: {'ok' if r >= GOAL else 'MISSED'}")
    lines.append(f"goal (issue #4): ours >= {GOAL:.0f}x node. " + "; ".join(goals))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
    with open(argv[3] + ".txt", "w") as f:
        f.write(text)
    with open(argv[3] + ".json", "w") as f:
        json.dump({"meta": meta, "records": records, "ratios": ratios}, f, indent=2)
        f.write("\n")
    print(f"written {argv[3]}.txt and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
