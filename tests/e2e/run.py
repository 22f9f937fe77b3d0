#!/usr/bin/env python3
"""Runs the e2e modules in parallel, one `unittest` process per module (each test class starts its
own server on its own port and data dir, so modules never share state).

usage: tests/e2e/run.py [-j N] [-v] [module ...]      (default: every test_*.py, -j 2)

Prints each module's output when it finishes; exit code 1 when any module failed.
Equivalent, serially: python3 -m unittest discover -s tests/e2e -v
"""

import argparse
import glob
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE_TIMEOUT = 300  # seconds; a hung module is killed (its servers are stopped by their PIDs)


def run_module(name: str, verbose: bool) -> tuple[str, int, str, float]:
    started = time.monotonic()
    cmd = [sys.executable, "-m", "unittest"] + (["-v"] if verbose else []) + [name]
    try:
        proc = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=MODULE_TIMEOUT)
        code, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        code = 124
        out = f"{name}: timed out after {MODULE_TIMEOUT}s\n{e.stdout or ''}{e.stderr or ''}"
    return name, code, out, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args()
    modules = args.modules or sorted(
        os.path.basename(p)[:-3] for p in glob.glob(os.path.join(HERE, "test_*.py")))
    started = time.monotonic()
    failed = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, code, out, secs in pool.map(lambda m: run_module(m, args.verbose), modules):
            print(f"===== {name}: {'ok' if code == 0 else f'FAILED ({code})'} in {secs:.1f}s")
            if code != 0 or args.verbose:
                print(out)
            if code != 0:
                failed.append(name)
    print(f"e2e: {len(modules) - len(failed)}/{len(modules)} modules passed "
          f"in {time.monotonic() - started:.1f}s" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
