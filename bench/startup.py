"""How long `joyctl --version` and `joyctl --help` take, from process start to exit.

Prints the median and best of several runs of each. Run: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = (["--version"], ["--help"], ["config", "--help"])


def _time(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "joyctl", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    baseline = [_time_python() for _ in range(runs)]
    print(f"{'python -c pass':<24} median {statistics.median(baseline) * 1000:6.0f} ms")
    for args in COMMANDS:
        samples = [_time(args) for _ in range(runs)]
        label = "joyctl " + " ".join(args)
        median, best = statistics.median(samples), min(samples)
        print(f"{label:<24} median {median * 1000:6.0f} ms   best {best * 1000:6.0f} ms")
    return 0


def _time_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
