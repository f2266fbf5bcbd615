#!/usr/bin/env python3
"""Memory held per established idle TLS 1.3 connection end, for each variant of idle_memory:
secctx's buffer policies on either engine against SSL + two BIO_s_mem and Boost.Asio's
ssl::stream.

Method (see bench/idle_memory.cpp): N connections over TCP loopback, the server ends in one
process and the client ends in another; each process reports (heap in use after - before) / N,
where the heap in use is glibc's mallinfo2() uordblks + hblkhd and "before" is taken after the
credentials and one warm-up connection exist. "other" is what C++ code holds (secctx, Asio, the
container, the pool's retained blocks: operator new, counted by the program), "engine" the rest
(OpenSSL, or GnuTLS with Nettle and GMP). RSS is VmRSS growth per end: lower than the heap where pages were never touched (the
fixed policy's arrays).

Usage: bench/idle_memory.py [build_dir] [--n 10000] [--variants a,b] [--json PATH]
The JSON (default: a file in the temporary directory) holds every line the program printed, for
the plot script.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

from compare import ROOT, build, source_version

VARIANTS = ["secctx-dynamic", "secctx-fixed", "secctx-pooled", "secctx-gnutls-dynamic",
            "secctx-gnutls-fixed", "secctx-gnutls-pooled", "openssl-mem", "asio-ssl-stream"]
BASELINE = "asio-ssl-stream"


def measure(program: pathlib.Path, variant: str, n: int) -> list[dict]:
    done = subprocess.run([str(program), variant, str(n)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"idle_memory {variant} {n} failed ({done.returncode}): {done.stderr.strip()}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if sorted(r["role"] for r in rows) != ["client", "server"]:
        sys.exit(f"idle_memory {variant}: expected a client and a server line:\n{done.stdout}")
    return rows


def print_table(rows: list[dict]) -> None:
    base = {r["role"]: r["bytes_per_end"] for r in rows if r["variant"] == BASELINE}
    header = ["variant", "role", "bytes/end", "engine/end", "other/end", "RSS/end",
              f"vs {BASELINE}"]
    lines = []
    for r in rows:
        ratio = r["bytes_per_end"] / base[r["role"]] if base.get(r["role"]) else float("nan")
        lines.append([r["variant"], r["role"], f"{r['bytes_per_end']:,.0f}",
                      f"{r['engine_bytes_per_end']:,.0f}", f"{r['other_bytes_per_end']:,.0f}",
                      f"{r['rss_per_end']:,.0f}", f"{ratio:.2f}"])
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    for i, line in enumerate([header] + lines):
        print("  ".join(str(c).ljust(w) if j < 2 else str(c).rjust(w)
                        for j, (c, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default=str(ROOT / "build" / "default"))
    parser.add_argument("--n", type=int, default=10000, help="connections per variant")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated subset of " + ",".join(VARIANTS))
    parser.add_argument("--json", default=str(pathlib.Path(tempfile.gettempdir()) /
                                              "secctx-idle-memory.json"),
                        help="where the results go (default: %(default)s)")
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        sys.exit(f"unknown variants: {', '.join(sorted(unknown))}")

    build_dir = pathlib.Path(args.build_dir)
    build(build_dir, ["idle_memory"])
    program = build_dir / "bench" / "idle_memory"
    started = time.monotonic()
    rows = []
    for variant in variants:
        rows += sorted(measure(program, variant, args.n), key=lambda r: r["role"] != "server")
    elapsed = time.monotonic() - started

    print(f"idle memory per connection end, N={args.n}, source {source_version()}, "
          f"{elapsed:.0f} s")
    print_table(rows)
    result = {"source": source_version(), "n": args.n, "baseline": BASELINE,
              "seconds": round(elapsed, 1), "results": rows}
    pathlib.Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {args.json}")


if __name__ == "__main__":
    main()
