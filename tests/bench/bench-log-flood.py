#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-log-flood.py - twenty devices at a thousand log lines a second each, into the
merged log view

usage: bench-log-flood.py BUILD_DIR                     (./run bench passes build/)
       bench-log-flood.py --demo PROG --sim PROG [--seconds S] [--ring N]

espfleet-sim runs 20 devices on 127.0.0.1, each sending 1000 synthetic sensor lines a
second ("seq=N" counts them) over its TCP log stream. tests/ui/log-view-demo takes them in
through the engine (one TCP source per device, the hub, 50 000-line rings per device) and
shows all of them in the merged view of the real FleetLogView widget under Xvfb; a second
run does the same without a window (the engine alone, as espfleet-cli logs does).

Printed per run: lines taken in per second; lines lost (gaps in every device's sequence
numbers, whatever the cause); main-loop lateness (a 10 ms timer: the largest delay and how
many ticks came more than 50 ms late); CPU used; resident memory when the rings are full and
at the end. Targets: no line lost, lateness < 50 ms, memory flat once the rings are full.
Exit 1 when a target is missed, 77 when neither run could be made.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testnet import free_ports  # noqa: E402

DEVICES = 20
RATE = 1000
TARGET_LATE_MS = 50.0
# memory counts as flat when it grows less than this over the last stretch of the run
FLAT_MB = 4.0




def start_sim(sim, tmp, port):
    log = open(os.path.join(tmp, "sim.log"), "ab")
    p = subprocess.Popen([sim, "--name", "flood", "--count", str(DEVICES), "--state-dir",
                          os.path.join(tmp, "state"), "--flash-speed", "fast", "--quiet",
                          "--log-rate", str(RATE), "--heartbeat", "5", "--log-port", str(port),
                          "--ota-port", str(free_ports(DEVICES)), "--http-port",
                          str(free_ports(DEVICES))],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port + DEVICES - 1), 1).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("espfleet-sim did not start")


def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def run_demo(demo, port, seconds, ring, headless):
    cmd = [demo, "--port", str(port), "--count", str(DEVICES), "--bench", str(seconds),
           "--ring", str(ring)]
    if headless:
        cmd.append("--headless")
    else:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"] + cmd
    env = dict(os.environ, NO_AT_BRIDGE="1", GTK_A11Y="none", GIO_USE_VFS="local")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, env=env)
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no result (exit {r.returncode}): {r.stderr[-800:]}")


def judge(res, fill_s):
    """memory when the rings filled and at the end, and whether it stayed flat after"""
    rss = [kb / 1024.0 for kb in res["rss_kb"]]
    # one sample a second from the start of the demo; the rings are full a few seconds after
    # fill_s (start-up, the last lines of the slowest device)
    fill = min(len(rss) - 1, int(fill_s) + 8)
    tail = rss[fill:]
    growth = (max(tail) - tail[0]) if tail else 0.0
    return rss[fill] if rss else 0.0, rss[-1] if rss else 0.0, growth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?")
    ap.add_argument("--demo")
    ap.add_argument("--sim")
    ap.add_argument("--seconds", type=int, default=80)
    ap.add_argument("--ring", type=int, default=50000)
    args = ap.parse_args()
    demo = args.demo or os.path.join(args.build or "build", "tests", "ui", "log-view-demo")
    sim = args.sim or os.path.join(args.build or "build", "firmware", "port", "linux-sim",
                                   "espfleet-sim")
    for prog in (demo, sim):
        if not os.access(prog, os.X_OK):
            print(f"SKIP: {prog} is not built (the GUI and simulator options must be on)")
            return 77
    # the rings hold ring lines per device; they are full after ring / RATE seconds
    fill_s = args.ring / RATE
    if args.seconds < fill_s + 15:
        print(f"note: {args.seconds} s is too short to see memory after the rings fill "
              f"({fill_s:.0f} s); using {int(fill_s + 25)} s")
        args.seconds = int(fill_s + 25)

    runs = []
    if shutil.which("xvfb-run") is not None:
        runs.append(("merged view (GTK, Xvfb)", False))
    else:
        print("note: xvfb-run is missing: the GTK view is not measured")
    runs.append(("engine alone (no window)", True))

    results = []
    tmp = tempfile.mkdtemp(prefix="espfleet-flood-")
    try:
        for name, headless in runs:
            port = free_ports(DEVICES)
            sim_proc = start_sim(sim, tmp, port)
            try:
                res = run_demo(demo, port, args.seconds, args.ring, headless)
            finally:
                stop(sim_proc)
            results.append((name, res))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nlog flood: {DEVICES} devices x {RATE} lines/s, rings of {args.ring} lines per "
          f"device (full after {fill_s:.0f} s), {args.seconds} s per run")
    header = (f"{'run':<26} {'lines/s':>8} {'lost':>6} {'late max':>9} {'>50 ms':>7} "
              f"{'CPU':>5} {'RSS full':>9} {'RSS end':>8} {'growth':>7}")
    print(header)
    print("-" * len(header))
    failed = False
    for name, res in results:
        at_fill, at_end, growth = judge(res, fill_s)
        print(f"{name:<26} {res['lines_per_s']:>8.0f} {res['gaps']:>6} "
              f"{res['max_late_ms']:>7.1f}ms {res['late_over_50ms']:>7} "
              f"{res['cpu'] * 100:>4.0f}% {at_fill:>7.1f}MB {at_end:>6.1f}MB "
              f"{growth:>5.1f}MB")
        if res["gaps"] != 0:
            print(f"  MISSED: {res['gaps']} lines lost")
            failed = True
        if res["max_late_ms"] >= TARGET_LATE_MS:
            print(f"  MISSED: the main loop was {res['max_late_ms']:.1f} ms late")
            failed = True
        if growth >= FLAT_MB:
            print(f"  MISSED: memory grew {growth:.1f} MB after the rings were full")
            failed = True
        if res["lines_per_s"] < DEVICES * RATE * 0.95:
            print(f"  note: {res['lines_per_s']:.0f} lines/s came in of {DEVICES * RATE} sent "
                  "(the simulator may be short of CPU)")
    print("targets: no line lost, main loop < 50 ms late, memory flat once the rings are full")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
