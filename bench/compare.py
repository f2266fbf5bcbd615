#!/usr/bin/env python3
"""Compare the variants of bench/variants.hpp: instructions per handshake (callgrind), handshakes
per second and 16 KiB records per second (Google Benchmark), side by side, with ratios against
openssl-custom-bio and, for instructions, against each engine's own best hand-written loop.

Method (see docs/performance.md):
  * instructions: `valgrind --tool=callgrind handshake_loop VARIANT N` for N=1 and N=--n; the
    setup and teardown (CA, credentials, process start and exit) are the same in both runs, so
    (Ir(N) - Ir(1)) / (N - 1) is the cost of one handshake. Deterministic up to a few hundred
    instructions (the ECDSA nonce is random), so a single run per N is enough.
  * time: `secctx_bench` with --benchmark_repetitions and random interleaving; the medians of
    CPU-time based handshakes/s (BM_handshake) and records/s (BM_records), and of their
    allocation counters (per handshake, per record), are reported.
  * the goals: instructions per handshake <= 1.01 x the same engine's best hand-written loop
    (openssl-custom-bio for secctx-fixed, which must also stay under openssl-mem;
    gnutls-push-pull for secctx-gnutls-fixed and secctx-gnutls-pooled); lib_allocs = 0 per
    handshake and per record for the fixed and pooled variants of both engines; handshakes/s of
    secctx-gnutls-fixed >= 1.25 x openssl-custom-bio.

Usage: bench/compare.py [--n 21] [--repetitions 15] [--min-time 0.5] [--plot docs/plots/handshake.png]
                        [--idle-json FILE]   (bench/idle_memory.py's results, for the plot)
The plot needs matplotlib (Debian: apt-get install python3-matplotlib, then run /usr/bin/python3).
"""

import argparse
import concurrent.futures
import json
import pathlib
import random
import re
import statistics
import subprocess
import sys
import tempfile

VARIANTS = ["secctx-dynamic", "secctx-fixed", "secctx-pooled", "openssl-mem", "openssl-custom-bio",
            "secctx-gnutls-fixed", "secctx-gnutls-pooled", "gnutls-push-pull"]
BASELINE = "openssl-custom-bio"
# Each variant's own engine's best hand-written loop: what its instructions are held to.
HAND_WRITTEN = {v: ("gnutls-push-pull" if "gnutls" in v else BASELINE) for v in VARIANTS}
# The variants the instruction goal (<= 1.01 x HAND_WRITTEN) is checked on.
ZERO_OVERHEAD = ["secctx-fixed", "secctx-gnutls-fixed", "secctx-gnutls-pooled"]
NO_ALLOCATION = ["secctx-fixed", "secctx-pooled", "secctx-gnutls-fixed", "secctx-gnutls-pooled"]
# The handshake rate goal: this variant at least RATE_GOAL x BASELINE's.
FASTEST, RATE_GOAL = "secctx-gnutls-fixed", 1.25
ROOT = pathlib.Path(__file__).resolve().parent.parent


def source_version() -> str:
    """The commit measured, with "+dirty" when include/ or bench/ differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "include", "bench"],
                               cwd=ROOT, check=True, capture_output=True, text=True).stdout
        return head + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build(build_dir: pathlib.Path, targets=("secctx_bench", "handshake_loop")) -> None:
    if not (build_dir / "CMakeCache.txt").exists():
        if build_dir.resolve() == (ROOT / "build" / "default").resolve():
            subprocess.run(["cmake", "--preset", "default"], cwd=ROOT, check=True)
        else:
            subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", *targets], cwd=ROOT,
                   check=True)


def callgrind_total(loop: pathlib.Path, variant: str, n: int, out_dir: pathlib.Path) -> int:
    out = out_dir / f"callgrind.{variant}.{n}"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(loop),
                    variant, str(n)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    match = re.search(r"^(?:summary|totals):\s*(\d+)", out.read_text(), re.MULTILINE)
    if not match:
        sys.exit(f"compare: no total in {out}")
    return int(match.group(1))


def instructions(build_dir: pathlib.Path, n: int, jobs: int, keep: pathlib.Path | None):
    loop = build_dir / "bench" / "handshake_loop"
    out_dir = keep or pathlib.Path(tempfile.mkdtemp(prefix="secctx-callgrind-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [(v, k) for v in VARIANTS for k in (1, n)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        totals = dict(zip(runs, pool.map(lambda r: callgrind_total(loop, r[0], r[1], out_dir),
                                         runs)))
    result = {}
    for v in VARIANTS:
        result[v] = {"ir_1": totals[(v, 1)], f"ir_{n}": totals[(v, n)],
                     "ir_per_handshake": (totals[(v, n)] - totals[(v, 1)]) / (n - 1)}
    if keep is None:
        for f in out_dir.iterdir():
            f.unlink()
        out_dir.rmdir()
    return result


def summarise(runs, rate_key: str) -> dict:
    rate = [r["items_per_second"] for r in runs]
    return {"repetitions": len(runs), rate_key: statistics.median(rate),
            "best": max(rate),
            "cv": statistics.stdev(rate) / statistics.mean(rate) if len(rate) > 1 else 0,
            "cpu_us": statistics.median(r["cpu_time"] for r in runs),
            "lib_allocs": statistics.median(r["lib_allocs"] for r in runs),
            "engine_allocs": statistics.median(r["engine_allocs"] for r in runs),
            "all": rate}


def timings(build_dir: pathlib.Path, repetitions: int, min_time: float):
    bench = build_dir / "bench" / "secctx_bench"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([str(bench), f"--benchmark_repetitions={repetitions}",
                        f"--benchmark_min_time={min_time}",
                        "--benchmark_enable_random_interleaving=true",
                        "--benchmark_display_aggregates_only=true",
                        f"--benchmark_out={out.name}", "--benchmark_out_format=json"],
                       check=True)
        report = json.load(open(out.name))
    reps = {"BM_handshake": {}, "BM_records": {}}
    for b in report["benchmarks"]:
        if b.get("run_type") == "iteration" and "error_occurred" not in b:
            family, variant = b["run_name"].split("/", 1)
            reps[family].setdefault(variant, []).append(b)
    missing = [f"{f}/{v}" for f in reps for v in VARIANTS if v not in reps[f]]
    if missing:
        sys.exit(f"compare: no timing for {', '.join(missing)}")
    result = {v: summarise(runs, "handshakes_per_s") for v, runs in reps["BM_handshake"].items()}
    records = {v: summarise(runs, "records_per_s") for v, runs in reps["BM_records"].items()}
    # 95% bootstrap interval of the ratio of medians against the baseline (fixed seed).
    rng = random.Random(1)
    base = result[BASELINE]["all"]
    for v in VARIANTS:
        mine = result[v]["all"]
        boot = sorted(statistics.median(rng.choices(mine, k=len(mine))) /
                      statistics.median(rng.choices(base, k=len(base))) for _ in range(2000))
        result[v]["ratio_ci95"] = [boot[50], boot[1949]]
    return {"context": report["context"], "variants": result, "records": records}


def print_table(ir, tm, n) -> None:
    head = f"{'variant':<21}"
    if ir:
        head += f" {'instr/handshake':>16} {'vs custom':>10} {'vs own loop':>12}"
    if tm:
        head += (f" {'handshakes/s':>13} {'vs custom':>10} {'95% CI':>15} {'cv':>6}"
                 f" {'best/s':>8} {'vs custom':>10} {'lib_allocs':>11} {'engine_allocs':>14}")
    print()
    print(head)
    print("-" * len(head))
    for v in VARIANTS:
        line = f"{v:<21}"
        if ir:
            per = ir[v]["ir_per_handshake"]
            line += (f" {per:>16,.0f} {per / ir[BASELINE]['ir_per_handshake']:>10.4f}"
                     f" {per / ir[HAND_WRITTEN[v]]['ir_per_handshake']:>12.4f}")
        if tm:
            t = tm["variants"][v]
            b = tm["variants"][BASELINE]
            ci = f"[{t['ratio_ci95'][0]:.3f},{t['ratio_ci95'][1]:.3f}]"
            line += (f" {t['handshakes_per_s']:>13,.1f}"
                     f" {t['handshakes_per_s'] / b['handshakes_per_s']:>10.4f} {ci:>15}"
                     f" {t['cv'] * 100:>5.1f}% {t['best']:>8,.0f}"
                     f" {t['best'] / b['best']:>10.4f}"
                     f" {t['lib_allocs']:>11.2f} {t['engine_allocs']:>14.1f}")
        print(line)
    print()
    if tm:
        head = (f"{'16 KiB records':<21} {'records/s':>11} {'vs custom':>10} {'cv':>6}"
                f" {'lib_allocs':>11} {'engine_allocs':>14}")
        print(head)
        print("-" * len(head))
        r = tm["records"]
        for v in VARIANTS:
            print(f"{v:<21} {r[v]['records_per_s']:>11,.0f}"
                  f" {r[v]['records_per_s'] / r[BASELINE]['records_per_s']:>10.4f}"
                  f" {r[v]['cv'] * 100:>5.1f}% {r[v]['lib_allocs']:>11.2f}"
                  f" {r[v]['engine_allocs']:>14.1f}")
        print()
    if ir:
        print(f"instructions, (Ir(N={n}) - Ir(N=1)) / {n - 1}:")
        for v in ZERO_OVERHEAD:
            ratio = ir[v]["ir_per_handshake"] / ir[HAND_WRITTEN[v]]["ir_per_handshake"]
            print(f"  {v} / {HAND_WRITTEN[v]} = {ratio:.4f}  (goal <= 1.01: "
                  f"{'met' if ratio <= 1.01 else 'MISSED'})")
        vs_mem = ir["secctx-fixed"]["ir_per_handshake"] / ir["openssl-mem"]["ir_per_handshake"]
        print(f"  secctx-fixed / openssl-mem = {vs_mem:.4f}  (goal < 1: "
              f"{'met' if vs_mem < 1 else 'MISSED'})")
    if tm:
        t = tm["variants"]
        print(f"handshakes/s, median of {t[BASELINE]['repetitions']} repetitions (CPU time):")
        for v in VARIANTS:
            if v.startswith("secctx"):
                own = HAND_WRITTEN[v]
                print(f"  {v} / {BASELINE} = "
                      f"{t[v]['handshakes_per_s'] / t[BASELINE]['handshakes_per_s']:.4f},"
                      f" / {own} = {t[v]['handshakes_per_s'] / t[own]['handshakes_per_s']:.4f}")
        rate = t[FASTEST]["handshakes_per_s"] / t[BASELINE]["handshakes_per_s"]
        print(f"  goal: {FASTEST} >= {RATE_GOAL} x {BASELINE}: {rate:.4f} "
              f"({'met' if rate >= RATE_GOAL else 'MISSED'})")
        allocs = [(v, t[v]["lib_allocs"], tm["records"][v]["lib_allocs"]) for v in NO_ALLOCATION]
        verdict = "met" if all(h == 0 and r == 0 for _, h, r in allocs) else "MISSED"
        print("lib_allocs per handshake / per record (goal 0 / 0: " + verdict + "): " +
              ", ".join(f"{v} {h:g} / {r:g}" for v, h, r in allocs))


def plot(path: pathlib.Path, ir, tm, n, idle=None) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    def quartiles(values):
        q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
        return q[0], q[2]

    # (title, values, error bars, label of one bar, x axis unit)
    panels = []
    if tm:
        medians = [tm["variants"][v]["handshakes_per_s"] for v in VARIANTS]
        spread = [quartiles(tm["variants"][v]["all"]) for v in VARIANTS]
        errors = [[m - lo for m, (lo, _) in zip(medians, spread)],
                  [hi - m for m, (_, hi) in zip(medians, spread)]]
        base = medians[VARIANTS.index(BASELINE)]
        panels.append((f"handshakes/s: median of {tm['variants'][BASELINE]['repetitions']} "
                       "repetitions, whiskers = quartiles (CPU time; higher is better)",
                       medians, errors, lambda v, b=base: f"{v:,.0f}/s  ({v / b:.4f}x)", 1))
    if ir:
        per = [ir[v]["ir_per_handshake"] for v in VARIANTS]
        base = per[VARIANTS.index(BASELINE)]
        panels.append((f"instructions per handshake: callgrind, (N={n} - N=1) / {n - 1} "
                       "(lower is better)", per, None,
                       lambda v, b=base: f"{v / 1e6:.3f}M  ({v / b:.4f}x)", 1e6))
        own = {v: ir[HAND_WRITTEN[v]]["ir_per_handshake"] for v in VARIANTS}
        extra = [ir[v]["ir_per_handshake"] - own[v] for v in VARIANTS]
        panels.append(("instructions per handshake above the same engine's hand-written loop "
                       "(zoom)", extra, None,
                       lambda v: f"{v:+,.0f}", 1e3))
    rows = len(panels) + (1 if idle else 0)
    fig, axes = plt.subplots(rows, 1, figsize=(8.5, 3.4 * rows), squeeze=False)
    colours = ["#1f77b4", "#17becf", "#9467bd", "#ff7f0e", "#2ca02c", "#d62728", "#e377c2",
               "#8c564b"]
    if idle:
        plot_idle(axes[-1, 0], idle)
    for ax, (title, values, errors, label, unit) in zip(axes[:, 0], panels):
        bars = ax.barh(VARIANTS, values, color=colours, xerr=errors, capsize=4)
        for i, (bar, value) in enumerate(zip(bars, values)):
            end = value + (errors[1][i] if errors else 0)
            ax.text(end, bar.get_y() + bar.get_height() / 2, "  " + label(value), va="center",
                    fontsize=9)
        ax.set_title(title, fontsize=9.5)
        suffix = {1: "", 1e3: "k", 1e6: "M"}[unit]
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda x, _, u=unit, s=suffix: f"{x / u:,.0f}{s}" if u > 1 else f"{x:,.0f}"))
        top = max(v + (errors[1][i] if errors else 0) for i, v in enumerate(values))
        ax.set_xlim(min(0, min(values)) * 1.45, max(top, 1) * 1.45)
        ax.invert_yaxis()
    fig.suptitle("secctx on OpenSSL and GnuTLS: TLS 1.3 handshake (X25519, ECDSA P-256, server "
                 "verified, tickets issued), one thread",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


def plot_idle(ax, idle) -> None:
    """Bytes held per idle established connection end, server and client, by variant."""
    import matplotlib.ticker
    variants = list(dict.fromkeys(r["variant"] for r in idle["results"]))
    per = {(r["variant"], r["role"]): r["bytes_per_end"] for r in idle["results"]}
    height = 0.38
    for k, (role, colour) in enumerate((("server", "#1f77b4"), ("client", "#ff7f0e"))):
        ys = [i + (k - 0.5) * height for i in range(len(variants))]
        values = [per[(v, role)] for v in variants]
        bars = ax.barh(ys, values, height=height, color=colour, label=f"{role} end")
        for bar, value in zip(bars, values):
            ax.text(value, bar.get_y() + bar.get_height() / 2, f"  {value / 1000:,.1f} KB",
                    va="center", fontsize=8)
    ax.axvline(16000, color="#d62728", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(variants)))
    ax.set_yticklabels(variants)
    ax.set_ylim(len(variants) - 0.5, -1.1)  # top to bottom, with a row for the goal's label
    ax.text(16000, -0.8, " 16 KB goal per end", color="#d62728", fontsize=8, va="center")
    ax.set_xlim(0, max(per.values()) * 1.25)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda x, _: f"{x / 1000:,.0f} KB"))
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"heap held per idle established TLS 1.3 end, {idle['n']:,} live connections "
                 "(lower is better)", fontsize=9.5)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build" / "default")
    p.add_argument("--n", type=int, default=21, help="handshakes in the long callgrind run")
    p.add_argument("--jobs", type=int, default=2, help="callgrind runs in parallel")
    p.add_argument("--repetitions", type=int, default=15)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per repetition")
    p.add_argument("--skip-callgrind", action="store_true")
    p.add_argument("--skip-timing", action="store_true")
    p.add_argument("--keep-callgrind", type=pathlib.Path,
                   help="keep the callgrind output files here (for callgrind_annotate)")
    p.add_argument("--json", type=pathlib.Path, help="write all numbers here")
    p.add_argument("--source", help="what was measured (default: git commit of this tree)")
    p.add_argument("--from-json", type=pathlib.Path,
                   help="measure nothing: print the table (and --plot) from an earlier --json")
    p.add_argument("--plot", type=pathlib.Path, help="write a PNG plot here")
    p.add_argument("--idle-json", type=pathlib.Path,
                   help="bench/idle_memory.py's --json output, added to the plot")
    args = p.parse_args()
    if args.n < 2:
        p.error("--n must be at least 2")

    idle = json.loads(args.idle_json.read_text()) if args.idle_json else None
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        print(f"\nsource: {saved['source']}")
        print_table(saved["instructions"], saved["timing"], saved["n"])
        if args.plot:
            plot(args.plot, saved["instructions"], saved["timing"], saved["n"], idle)
        return 0

    build(args.build_dir)
    ir = None if args.skip_callgrind else instructions(args.build_dir, args.n, args.jobs,
                                                       args.keep_callgrind)
    tm = None if args.skip_timing else timings(args.build_dir, args.repetitions, args.min_time)
    source = args.source or source_version()
    print(f"\nsource: {source}")
    print_table(ir, tm, args.n)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"source": source, "n": args.n,
                                         "instructions": ir, "timing": tm}, indent=2))
    if args.plot:
        plot(args.plot, ir, tm, args.n, idle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
