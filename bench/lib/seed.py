#!/usr/bin/env python3
"""Seeds links through the public API, fast: a few keep-alive connections in threads.

usage: seed.py BASE_URL API_KEY COUNT SLUGS_OUT [CONNECTIONS]

Creates COUNT links (https://example.com/bench/<i>) with `Authorization: Bearer API_KEY` (so the
anonymous rate limit does not apply) and writes their slugs, one per line, to SLUGS_OUT.
Exits 1 on the first answer that is not 201. Standard library only. BENCH_SEED_PATH names the
endpoint (default /api/v1/links; bench/reference.sh sets /api/links for the Node.js reference).
"""

import http.client
import json
import os
import sys
import threading
import time
from urllib.parse import urlsplit


def seed_range(host: str, port: int, key: str, indexes: range, out: list, errors: list) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    path = os.environ.get("BENCH_SEED_PATH", "/api/v1/links")
    try:
        for i in indexes:
            if errors:
                return
            body = json.dumps({"url": f"https://example.com/bench/{i}?ref=seed"})
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 201:
                errors.append(f"link {i}: {resp.status} {data[:300]!r}")
                return
            out.append(json.loads(data)["slug"])
    except (OSError, http.client.HTTPException, ValueError) as e:
        errors.append(f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    base, key, count, out_path = argv[1], argv[2], int(argv[3]), argv[4]
    connections = int(argv[5]) if len(argv) == 6 else 4
    url = urlsplit(base)
    started = time.monotonic()
    results: list[list[str]] = [[] for _ in range(connections)]
    errors: list[str] = []
    threads = [
        threading.Thread(target=seed_range,
                         args=(url.hostname, url.port, key, range(n, count, connections),
                               results[n], errors))
        for n in range(connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"seed: failed: {errors[0]}", file=sys.stderr)
        return 1
    slugs = [s for part in results for s in part]
    with open(out_path, "w") as f:
        f.write("\n".join(slugs) + "\n")
    elapsed = time.monotonic() - started
    print(f"seeded {len(slugs)} links in {elapsed:.1f}s ({len(slugs) / elapsed:.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
