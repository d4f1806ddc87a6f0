#!/usr/bin/env python3
"""Splits the whole-chain benchmark's event latency by hop, from a loopback packet capture.

scripts/bench.sh runs it with BENCH_CAPTURE=1 (tcpdump on the XMPP and broker ports, both in
clear). For each dialog callback in the bench's trace (DIALOG, EVENT, MICROS), the publish
that caused it is the dialog's latest one in finesse-sim's publish log at or before the
callback; then, on the wire, the first packet carrying the dialog id after the previous
step:
  1. finesse-sim -> XMPP server   (the publish written to the XMPP port)
  2. XMPP server -> connector     (the notification delivered from the XMPP port)
  3. connector -> broker          (the event sent to the broker port)
  4. broker -> driver             (the message delivered from the broker port)
  5. driver -> Siebel callback    (the bench's trace)
A callback whose steps are not all found is counted apart (a dialog id split across two
TCP segments, or an event that came another way).

usage: bench-split.py CAPTURE PUBLISH_LOG TRACE XMPP_PORT BROKER_PORT
"""

import bisect
import collections
import re
import struct
import sys

LINKTYPE_ETHERNET = 1  # Linux loopback as tcpdump writes it
LINKTYPE_LINUX_SLL = 113
DIGITS = re.compile(rb"\d{3,}")


def read_publishes(path):
    """Each dialog's publish times (micros since the epoch), sorted."""
    publishes = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 5 and fields[1].endswith("/Dialogs") and fields[3] != "-":
                publishes[fields[3]].append(int(fields[0]))
    for times in publishes.values():
        times.sort()
    return publishes


def read_trace(path):
    """The callbacks: (dialog, event, micros)."""
    with open(path) as f:
        return [(d, e, int(t)) for d, e, t in (line.rstrip("\n").split("\t") for line in f)]


def read_capture(path, dialogs, xmpp_port, broker_port):
    """For each direction of interest, each dialog's packet times (micros), sorted."""
    seen = {k: collections.defaultdict(list) for k in ("to_xmpp", "from_xmpp", "to_broker", "from_broker")}
    with open(path, "rb") as f:
        header = f.read(24)
        if len(header) < 24:
            sys.exit(f"{path}: not a capture")
        magic, = struct.unpack("<I", header[:4])
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            sys.exit(f"{path}: not a little-endian pcap file")
        nanos = magic == 0xA1B23C4D
        linktype, = struct.unpack("<I", header[20:24])
        link_len = {LINKTYPE_ETHERNET: 14, LINKTYPE_LINUX_SLL: 16}.get(linktype)
        if link_len is None:
            sys.exit(f"{path}: link type {linktype} is not handled")
        while True:
            record = f.read(16)
            if len(record) < 16:
                break
            sec, frac, caplen, _ = struct.unpack("<IIII", record)
            frame = f.read(caplen)
            ip = frame[link_len:]
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            tcp = ip[(ip[0] & 15) * 4:]
            if len(tcp) < 20:
                continue
            sport, dport = struct.unpack(">HH", tcp[:4])
            payload = tcp[(tcp[12] >> 4) * 4:]
            if not payload:
                continue
            kind = {
                (True, False, False, False): "to_xmpp",
                (False, True, False, False): "from_xmpp",
                (False, False, True, False): "to_broker",
                (False, False, False, True): "from_broker",
            }.get((dport == xmpp_port, sport == xmpp_port, dport == broker_port, sport == broker_port))
            if kind is None:
                continue
            micros = sec * 1_000_000 + (frac // 1000 if nanos else frac)
            for m in set(DIGITS.findall(payload)):
                dialog = m.decode()
                if dialog in dialogs:
                    seen[kind][dialog].append(micros)
    for per_dialog in seen.values():
        for times in per_dialog.values():
            times.sort()
    return seen


def first_from(times, at):
    i = bisect.bisect_left(times, at)
    return times[i] if i < len(times) else None


def quantile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    capture, publish_log, trace, xmpp_port, broker_port = sys.argv[1:]
    publishes = read_publishes(publish_log)
    callbacks = read_trace(trace)
    seen = read_capture(capture, set(publishes), int(xmpp_port), int(broker_port))
    hops = [
        ("1 finesse-sim -> XMPP server", "to_xmpp"),
        ("2 XMPP server -> connector", "from_xmpp"),
        ("3 connector -> broker", "to_broker"),
        ("4 broker -> driver", "from_broker"),
    ]
    spans = collections.defaultdict(list)
    unmatched = 0
    for dialog, _event, callback in callbacks:
        times = publishes.get(dialog, [])
        i = bisect.bisect_right(times, callback) - 1
        if i < 0:
            unmatched += 1
            continue
        steps = [times[i]]
        for _, kind in hops:
            t = first_from(seen[kind].get(dialog, []), steps[-1])
            if t is None or t > callback:
                break
            steps.append(t)
        if len(steps) != len(hops) + 1:
            unmatched += 1
            continue
        steps.append(callback)
        names = [name for name, _ in hops] + ["5 driver -> Siebel callback"]
        for name, (a, b) in zip(names, zip(steps, steps[1:])):
            spans[name].append((b - a) / 1000)
        spans["connector + broker + driver (2 -> callback)"].append((callback - steps[2]) / 1000)
        spans["all (publish -> callback)"].append((callback - steps[0]) / 1000)
    print(f"event latency by hop (packet capture): {len(callbacks) - unmatched} of {len(callbacks)} callbacks traced")
    for name, values in spans.items():
        values.sort()
        print(
            f"  {name}: p50 {quantile(values, 0.5):.2f} ms, p90 {quantile(values, 0.9):.2f} ms, "
            f"p99 {quantile(values, 0.99):.2f} ms, max {values[-1]:.2f} ms"
        )


if __name__ == "__main__":
    main()
