#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-logs.py - espfleet-cli logs on a LAN of five simulated devices found over mDNS

usage: test-logs.py ESPFLEET_CLI ESPFLEET_SIM FLEET_TEST_IMAGE_GEN

Five devices stream their logs; the merged view shows all of them by name. One is updated
while the viewer runs: its log is marked "disconnected" and "reconnected" and then shows the
new version's boot lines, the others go on undisturbed. Then syslog: messages sent from two
device namespaces (RFC 5424 and RFC 3164, with util-linux logger) are attributed to the
right devices by source address, and a device that was not asked for stays out.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import lan  # noqa: E402

CLI, SIM, GEN = sys.argv[1], sys.argv[2], sys.argv[3]
NAMES = [f"logs-{i}" for i in range(1, 6)]
LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d (\S+)\s+(.*)$")
c = common.Checks()

if shutil.which("logger") is None:
    lan.skip("util-linux logger is not installed")


def lines_of(text, name):
    out = []
    for raw in text.splitlines():
        m = LINE.match(raw)
        if m and m.group(1) == name:
            out.append(m.group(2))
    return out


def wait_log(lanobj, log, pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred(lanobj.log(log)):
            return True
        time.sleep(0.2)
    return False


def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return p.returncode


with lan.Lan(keep_logs=os.environ.get("FLEET_LAN_LOGS")) as L:
    devs = {}
    for name in NAMES:
        d = L.add_device()
        L.start_sim(d, SIM, common.sim_args(L, name, extra=("--heartbeat", "1")))
        devs[name] = d
    seen = common.wait_discovered(L, CLI, NAMES)
    c.check("discovered", all(n in seen for n in NAMES), sorted(seen))

    # the merged log of all five while one of them is updated
    viewer = L.popen([CLI, "logs", "--merged", "--discover-timeout", "20", *NAMES], log="viewer")
    ok = wait_log(L, "viewer", lambda t: all(
        any("heartbeat: uptime" in l for l in lines_of(t, n)) for n in NAMES), 40)
    c.check("all-streaming", ok, L.log("viewer")[-2000:])
    image = common.make_image(GEN, L.tmp, "esp32-app", "2.0.0")
    rc, doc, err = common.push(L, CLI, image, ["logs-3"])
    job = common.job_of(doc, "logs-3")
    c.check("push-verified", rc == 0 and job is not None and job["result"] == "verified",
            f"{rc} {job} {err[-500:]}")
    ok = wait_log(L, "viewer", lambda t: "espfleet-sim 2.0.0 starting" in t, 30)
    # a few more heartbeats after the reboot
    time.sleep(3)
    rc = stop(viewer)
    text = L.log("viewer")
    c.check("viewer-exit", rc == 0, f"rc={rc}")
    three = lines_of(text, "logs-3")
    i_disc = next((i for i, l in enumerate(three) if l.startswith("--- disconnected")), -1)
    i_rec = next((i for i, l in enumerate(three) if l.startswith("--- reconnected")), -1)
    i_boot = next((i for i, l in enumerate(three) if "espfleet-sim 2.0.0 starting" in l), -1)
    i_old = next((i for i, l in enumerate(three) if "espfleet-sim 1.0.0 starting" in l), -1)
    c.check("updated-marks", 0 <= i_old < i_disc < i_rec < i_boot, f"{i_old} {i_disc} {i_rec} "
            f"{i_boot}\n" + "\n".join(three[-80:]))
    before = three[:i_disc] if i_disc > 0 else three
    c.check("updated-ota-lines", any(" ota: start updating" in l for l in before)
            and any(" ota: update complete" in l for l in before), "\n".join(before[-40:]))
    c.check("updated-new-boot", any("I (27) boot: ESP-IDF" in l for l in three[i_rec:]),
            "\n".join(three[i_rec:i_rec + 20]))
    c.check("updated-heartbeat-after", any("heartbeat" in l for l in three[i_boot:]),
            "\n".join(three[i_boot:]))
    for name in NAMES:
        if name == "logs-3":
            continue
        mine = lines_of(text, name)
        c.check(f"{name}-undisturbed", mine and not any(l.startswith("--- disconnected")
                                                        for l in mine), "\n".join(mine[-10:]))
        c.check(f"{name}-one-boot", sum("I (27) boot: ESP-IDF" in l for l in mine) == 1,
                "\n".join(mine[:5]))

    # syslog from the device namespaces, attributed by source address
    receiver = L.popen([CLI, "logs", "--merged", "--source", "syslog", "--bind", "198.18.0.1",
                        "--syslog-port", "5514", "--discover-timeout", "20", "logs-2", "logs-4"],
                       log="syslog")
    # the receiver resolves the names first; send until the messages come through
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for name, fmt, text in (("logs-2", "--rfc5424", "hello from two"),
                                ("logs-4", "--rfc3164", "hello from four"),
                                ("logs-5", "--rfc5424", "not asked for")):
            subprocess.run(["ip", "netns", "exec", devs[name].ns, "logger", "-n", "198.18.0.1",
                            "-P", "5514", "-d", fmt, "-t", "sensor", "-p", "user.warning", text],
                           capture_output=True, timeout=10)
        if wait_log(L, "syslog", lambda t: "hello from two" in t and "hello from four" in t, 1):
            break
    stop(receiver)
    text = L.log("syslog")
    two = lines_of(text, "logs-2")
    four = lines_of(text, "logs-4")
    c.check("syslog-two", any(l == "sensor: hello from two" for l in two), text[-1500:])
    c.check("syslog-four", any(l == "sensor: hello from four" for l in four), text[-1500:])
    c.check("syslog-not-asked", "not asked for" not in text, text[-1500:])
    c.check("syslog-only-theirs", "hello from two" not in "\n".join(four)
            and "hello from four" not in "\n".join(two), text[-1500:])

c.finish()
