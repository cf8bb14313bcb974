#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-discovery.py - ten simulated devices found over a real avahi-daemon

usage: test-discovery.py ESPFLEET_CLI ESPFLEET_SIM

Each device runs espfleet-sim in its own network namespace and announces itself with the
firmware core's mDNS responder; espfleet-cli runs beside a real avahi-daemon on a private
system bus. Checks the TXT facts of every device, then renumbers one device (new IP, same
MAC) and checks that the watching CLI keeps it as one device with the new address.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402

CLI, SIM = sys.argv[1], sys.argv[2]
CHIPS = ["esp32", "esp32s3", "esp32c3", "esp8266"]
N = 10

failures = []
passed = 0


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(name)
        print(f"FAIL {name}: {detail}", file=sys.stderr)


def sim_args(lanobj, i, chip):
    args = ["--name", f"esp-lab-{i}", "--chip", chip,
            "--flavor", "esp8266" if chip == "esp8266" else "esp32",
            "--state-dir", os.path.join(lanobj.tmp, "state"), "--flash-speed", "fast",
            "--ota-port", "8266" if chip == "esp8266" else "3232", "--http-port", "8080",
            "--log-port", "2323", "--fw-version", f"1.0.{i}", "--boot-time", "200"]
    if i == 4:
        pwfile = os.path.join(lanobj.tmp, "pw")
        with open(pwfile, "w") as f:
            f.write("s3cret\n")
        args += ["--password-file", pwfile, "--auth", "md5"]
    return args


def discover(lanobj, timeout=3):
    r = lanobj.run([CLI, "discover", "--json", "--timeout", str(timeout)], timeout=60)
    if r.returncode != 0:
        return None, r.stderr
    return json.loads(r.stdout)["devices"], r.stderr


def watch_events(lanobj):
    events = []
    for line in lanobj.log("watch").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return events


with lan.Lan(keep_logs=os.environ.get("FLEET_LAN_LOGS")) as L:
    devs = []
    for i in range(1, N + 1):
        d = L.add_device()
        L.start_sim(d, SIM, sim_args(L, i, CHIPS[(i - 1) % len(CHIPS)]))
        devs.append(d)
    L.popen([CLI, "discover", "--watch", "--json"], log="watch")

    # every device appears with what it announces
    found = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found, err = discover(L)
        if found is not None and len([d for d in found if d["online"]]) >= N:
            break
        time.sleep(1)
    check("all-found", found is not None and len(found) == N,
          f"{len(found or [])} of {N}: {[d['name'] for d in found or []]}")
    by_name = {d["name"]: d for d in found or []}
    for i in range(1, N + 1):
        name = f"esp-lab-{i}"
        chip = CHIPS[(i - 1) % len(CHIPS)]
        d = by_name.get(name)
        if d is None:
            check(f"{name}-present", False, "missing")
            continue
        check(f"{name}-address", d["address"] == devs[i - 1].address, d["address"])
        check(f"{name}-chip", d["chip"] == chip, d["chip"])
        check(f"{name}-version", d["fw_version"] == f"1.0.{i}", d["fw_version"])
        check(f"{name}-ota-port", d["ota_port"] == (8266 if chip == "esp8266" else 3232),
              d["ota_port"])
        check(f"{name}-http", d["http_port"] == 8080 and "http" in d["protocols"],
              f"{d['http_port']} {d['protocols']}")
        check(f"{name}-log-port", d["log_port"] == 2323, d["log_port"])
        check(f"{name}-mac-id", d["mac"] is not None and d["id"] == "mac:" + d["mac"].lower(),
              f"{d['id']} {d['mac']}")
        check(f"{name}-sha", d["fw_sha256"] is not None and len(d["fw_sha256"]) == 16,
              d["fw_sha256"])
        check(f"{name}-password", d["needs_password"] == (i == 4), d["needs_password"])

    # renumber esp-lab-3: restart it on a new address, same state (same MAC)
    dev3 = devs[2]
    old = by_name.get("esp-lab-3", {})
    L.stop_device_procs(dev3)
    new_address = f"{lan.NET_PREFIX}.2.3"
    L.set_address(dev3, new_address)
    L.start_sim(dev3, SIM, sim_args(L, 3, CHIPS[2]), log="sim-3-renumbered")
    deadline = time.monotonic() + 30
    moved = False
    while time.monotonic() < deadline and not moved:
        for ev in watch_events(L):
            dev = ev["device"]
            if dev["name"] == "esp-lab-3" and dev["address"] == new_address and dev["online"]:
                moved = True
        time.sleep(0.5)
    check("renumbered-seen", moved, "the watcher never saw esp-lab-3 at its new address")
    ids = {ev["device"]["id"] for ev in watch_events(L)}
    check("one-row-per-device", len(ids) == N, f"{len(ids)} ids: {sorted(ids)}")
    check("same-identity", old.get("id") in ids, f"{old.get('id')} not in {sorted(ids)}")
    added = [ev for ev in watch_events(L) if ev["event"] == "added"]
    check("added-once-each", len(added) == N, f"{len(added)} added events")

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
