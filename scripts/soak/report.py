#!/usr/bin/env python3
"""The report of scripts/soak.sh: the samples as a table, each process's memory at the start
and end of its life and its slope per hour, the events expected against received, a verdict.

Usage: report.py RUN_DIR AGENTS DURATION_S CONNECTOR_RESTART BROKER_RESTART
The last line is `verdict: PASS ...` or `verdict: FAIL ...`.
"""

import csv
import json
import re
import sys

# Slopes above these fail the run (MB per hour, least squares over the samples since the
# process last started, after warm-up). The broker (a JVM with a fixed heap) and finesse-sim
# (the test oracle) are reported, not judged.
LIMITS_MB_PER_H = {"host": 20.0, "connector": 50.0}


def slope_per_hour(points):
    """Least-squares slope of (seconds, kB) points, in MB per hour."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    var = sum((p[0] - mx) ** 2 for p in points)
    if var == 0:
        return 0.0
    cov = sum((p[0] - mx) * (p[1] - my) for p in points)
    return cov / var * 3600 / 1024


def num(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def main():
    run, agents, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    restarts = {"connector": sys.argv[4], "broker": sys.argv[5]}
    with open(f"{run}/samples.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    try:
        with open(f"{run}/host-stats.json") as f:
            stats = json.load(f)
    except (OSError, ValueError):
        stats = {}

    print(f"soak run {run}: {agents} agents, {duration} s")
    print()
    head = (
        f"{'t (s)':>6} {'event':<24} {'connector MB/thr/fd':>20} {'broker MB/thr/fd':>19} "
        f"{'host MB/thr/fd':>17} {'finesse MB/thr/fd':>18} {'calls':>7} {'events':>8} "
        f"{'lost':>5} {'dup':>4} {'cti':>5} {'t/o':>5} {'late':>5} {'p99 ms':>7}"
    )
    print(head)
    print("-" * len(head))

    def trio(r, p):
        rss = num(r[f"{p}_rss_kb"])
        return (
            f"{rss / 1024:.1f}/{r[f'{p}_threads']}/{r[f'{p}_fds']}" if rss is not None else "-"
        )

    for r in rows:
        print(
            f"{r['elapsed_s']:>6} {r['event']:<24} {trio(r, 'connector'):>20} {trio(r, 'broker'):>19} "
            f"{trio(r, 'host'):>17} {trio(r, 'finesse'):>18} {r['placed']:>7} {r['events']:>8} "
            f"{r['lost_clean']:>5} {r['dup_clean']:>4} {r['cti_up']:>5} {r.get('timeouts', '-'):>5} "
            f"{r.get('late_events', '-'):>5} {r.get('ring_p99_ms', '-'):>7}"
        )
    print()

    warmup = max(120, duration // 10)
    problems = []
    print("memory (RSS) per process, over its last life (since its last start):")
    for proc, pid_key in (
        ("connector", "connector_pid"),
        ("broker", "broker_pid"),
        ("host", "host_pid"),
        ("finesse", None),
    ):
        life = [r for r in rows if num(r[f"{proc}_rss_kb"]) is not None]
        if pid_key and life:
            last_pid = life[-1][pid_key]
            life = [r for r in life if r[pid_key] == last_pid]
        if not life:
            print(f"  {proc:<10} no samples")
            continue
        t0 = int(life[0]["elapsed_s"])
        pts = [
            (int(r["elapsed_s"]), num(r[f"{proc}_rss_kb"]))
            for r in life
            if int(r["elapsed_s"]) - t0 >= warmup
        ]
        first, last = life[0], life[-1]
        first_mb = num(first[f"{proc}_rss_kb"]) / 1024
        last_mb = num(last[f"{proc}_rss_kb"]) / 1024
        peak = max(num(r[f"{proc}_rss_kb"]) for r in life) / 1024
        if len(pts) >= 3:
            s = slope_per_hour(pts)
            slope = f"{s:+.1f} MB/h over {pts[-1][0] - pts[0][0]} s after {warmup} s warm-up"
            limit = LIMITS_MB_PER_H.get(proc)
            if limit is not None and s > limit:
                problems.append(f"{proc} memory grows {s:+.1f} MB/h (limit {limit})")
        else:
            slope = "n/a (too few samples after warm-up)"
        print(
            f"  {proc:<10} start {first_mb:7.1f} MB (t={first['elapsed_s']} s)  end {last_mb:7.1f} MB "
            f"(t={last['elapsed_s']} s)  peak {peak:7.1f} MB  threads {first[f'{proc}_threads']}->"
            f"{last[f'{proc}_threads']}  fds {first[f'{proc}_fds']}->{last[f'{proc}_fds']}  slope {slope}"
        )
    print()

    def phases(side, kind):
        d = stats.get(side, {}).get(kind, {})
        return d.get("ringing", 0), d.get("established", 0), d.get("released", 0)

    print("events (per call: EventRinging, EventEstablished, EventReleased):")
    print(
        f"  calls placed through finesse-sim {stats.get('placed', '?')} "
        f"({stats.get('placed_disrupted', '?')} while a restart was under way), "
        f"finished {stats.get('finished', '?')}, admin API errors {stats.get('place_errors', '?')}"
    )
    for side, label in (("clean", "clear of restarts"), ("disrupted", "during a restart")):
        e, ok, lost, dup = (phases(side, k) for k in ("expected", "ok", "lost", "duplicated"))
        print(
            f"  {label:<18} expected {sum(e):>7} ({e[0]}/{e[1]}/{e[2]})  received once {sum(ok):>7}  "
            f"lost {sum(lost):>5} ({lost[0]}/{lost[1]}/{lost[2]})  duplicated {sum(dup):>4} "
            f"({dup[0]}/{dup[1]}/{dup[2]})"
        )
    to = stats.get("timeouts", {})
    print(
        f"  waits over 20 s (ringing/established/released) "
        f"{to.get('ringing', 0)}/{to.get('established', 0)}/{to.get('released', 0)}, "
        f"events after their call was given up (late) {stats.get('unknown_events', '?')}, HandleError {stats.get('host_errors', '?')}, "
        f"refused InvokeCommand {stats.get('invoke_errors', '?')}, agent recoveries {stats.get('recoveries', '?')}"
    )
    lat = stats.get("ringing_latency_ms", {})
    print(
        f"  from placing a call to its EventRinging: p50 {lat.get('p50', '?')} ms, "
        f"p99 {lat.get('p99', '?')} ms, max {lat.get('max', '?')} ms"
    )
    print()
    print(f"restarts: connector: {restarts['connector']}; broker: {restarts['broker']}")
    print()

    lost_clean = sum(phases("clean", "lost"))
    dup_clean = sum(phases("clean", "duplicated"))
    if not stats.get("final"):
        problems.append("soak-host did not write its final counters")
    if not stats.get("finished"):
        problems.append("no call finished")
    if lost_clean:
        problems.append(f"{lost_clean} events lost outside restarts")
    if dup_clean:
        problems.append(f"{dup_clean} events duplicated outside restarts")
    for what, how in restarts.items():
        # "... N/AGENTS after 20 s settle)": every session back after the restart.
        back = re.search(r"(\d+)/(\d+) after \d+ s settle", how)
        if not back or int(back.group(1)) != agents:
            problems.append(f"{what} restart not survived by every session ({how})")
    if problems:
        print("verdict: FAIL: " + "; ".join(problems))
    else:
        print(
            "verdict: PASS: no event lost or duplicated outside restarts, both restarts survived, "
            "memory of the host and the connector within limits"
        )


if __name__ == "__main__":
    main()
