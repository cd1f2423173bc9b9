#!/usr/bin/env python3
"""tools/compare_k_summary.py OUT SEEDS KS CONFIG TASKS ITERS EXTRA — the summary.md of
tools/compare_k.sh from OUT/seedS/evalK/eval.json (markdown on stdout)."""
import json, statistics as st, sys

out, seeds, ks, cfg, tasks, iters, extra = sys.argv[1:8]
seeds, ks = seeds.split(), ks.split()


def load(s, k):
    return json.load(open(f"{out}/seed{s}/eval{k}/eval.json"))


def ms(v):
    """mean ± sd over seeds of the non-null values; '-' if none."""
    v = [0.0 if x is not None and abs(x) < 5e-4 else x for x in v]
    v = [x for x in v if x is not None]
    if not v:
        return "-"
    return f"{st.mean(v):.3f}" + (f" ± {st.stdev(v):.3f}" if len(v) > 1 else "")


def per_seed(v):
    """one value per seed, '-' for never (null)."""
    return ", ".join("-" if x is None else f"{x:.0f}" for x in v)


print(f"# K sweep: {cfg}, seeds {' '.join(seeds)}, train.iterations {iters}, {tasks} held-out "
      f"regions, eval seed 1{', ' + extra if extra else ''}\n")
print("Gaps in %: unpolished (eval.polish 0), before fallback, mean over training seeds ± "
      "standard deviation across seeds. Certified and fallback: share of hours in %. Latency: "
      "median µs per hour, certificate and fallback included (a shared, noisy machine). "
      "Break-even: hours from which the method is cheaper than solver_warm, one value per seed "
      "(- = never).\n")
for k in ks:
    runs = [load(s, k) for s in seeds]
    methods = list(runs[0]["methods"])
    print(f"## K = {k}\n")
    print("| method | mean gap | median gap | p95 gap | certified | fallback | latency | break-even |")
    print("|---|---|---|---|---|---|---|---|")
    for m in methods:
        def col(key, f=1.0):
            return [None if r["methods"][m].get(key) is None else r["methods"][m][key] * f
                    for r in runs]
        print(f"| {m} | {ms(col('gap_mean_unpolished', 100))} | "
              f"{ms(col('gap_median_unpolished', 100))} | {ms(col('gap_p95_unpolished', 100))} | "
              f"{ms(col('certified_frac', 100))} | {ms(col('fallback_frac', 100))} | "
              f"{ms(col('latency_us'))} | {per_seed(col('break_even_hours'))} |")
    print()
    print("Paired per-task differences of the mean gap (checkpoint − baseline, in %), per seed, "
          "with the 95 % CI:\n")
    for r, s in zip(runs, seeds):
        for p in r["paired"]:
            if p["metric"] != "gap_mean" or p["b"] in ("solver", "solver_warm"):
                continue
            lo, hi = p["ci95"]
            v = (f"{p['a']} significantly lower" if hi < 0 else
                 f"{p['a']} significantly higher" if lo > 0 else
                 "no significant difference (the 95 % CI of the difference includes 0)")
            print(f"- seed {s}, {p['a']} − {p['b']}: {100 * p['mean_diff']:.3f} % "
                  f"(95 % CI {100 * lo:.3f} % to {100 * hi:.3f} %): {v}")
    print()
