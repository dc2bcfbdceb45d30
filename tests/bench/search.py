#!/usr/bin/env python3
"""Times searches through the CLI, process start included (no assertions).

usage: search.py SOCDIR NODE [RUNS]
  SOCDIR: path of the socdir binary; NODE: a node's data dir or endpoint.
Prints p50 and p99 for four query shapes: words + filter, filters only,
--near, and a facet. Load the node first, e.g. with
  python3 tests/bench/gen.py 100000 | socdir --node NODE publish -
"""
import statistics
import subprocess
import sys
import time

SHAPES = [
    ("words + country", ["search", "kuchyně", "--country", "CZ"]),
    ("filters only (cpv + label + country)", ["search", "--cpv", "9091", "--label", "EU-ART20", "--country", "AT"]),
    ("near 48.2,15.63 within 80 km", ["search", "--near", "48.2,15.63", "--km", "80"]),
    ("facet: organisations by region", ["search", "--kind", "organisation", "--count-by", "region"]),
]


def main():
    socdir, node = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    for name, args in SHAPES:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([socdir, "--node", node] + args, stdout=subprocess.DEVNULL, check=True)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{name:40s} p50 {statistics.median(times):7.1f} ms   p99 {p99:7.1f} ms")


if __name__ == "__main__":
    main()
