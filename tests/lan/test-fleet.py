#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-fleet.py - twenty devices at once, a canary group, a failing canary, a shaped link

usage: test-fleet.py ESPFLEET_CLI ESPFLEET_SIM FLEET_TEST_IMAGE_GEN

- 20 devices with --concurrency 8 --canary 2: every one verifies;
- a batch whose first canary fails: the others are skipped, none is touched;
- one device behind 20 ms RTT, 20 Mbit/s, 1 % loss: the update still verifies;
- a bad app (it never confirms itself): the device rolls back and the push says so.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import lan  # noqa: E402

CLI, SIM, GEN = sys.argv[1], sys.argv[2], sys.argv[3]
c = common.Checks()
N = 20

with lan.Lan(keep_logs=os.environ.get("FLEET_LAN_LOGS")) as L:
    image = common.make_image(GEN, L.tmp, "esp32-app", "4.0.0")
    names = [f"line-{i:02d}" for i in range(1, N + 1)]
    devs = {}
    for name in names:
        d = L.add_device()
        L.start_sim(d, SIM, common.sim_args(L, name))
        devs[name] = d
    canary_bad = L.add_device()
    L.start_sim(canary_bad, SIM, common.sim_args(L, "canary-bad", faults=["md5-mismatch"]))
    extra = ["canary-rest-1", "canary-rest-2", "canary-rest-3"]
    for name in extra:
        d = L.add_device()
        L.start_sim(d, SIM, common.sim_args(L, name))
        devs[name] = d
    # shaped before the simulator starts: without netem the link is the userspace shaper's
    shaped = L.add_device(shaped=True)
    L.shape(shaped, delay_ms=10, rate="20mbit", loss="1%")
    L.start_sim(shaped, SIM, common.sim_args(L, "far-away"))
    badapp = L.add_device()
    L.start_sim(badapp, SIM, common.sim_args(L, "bad-app-dev"))

    seen = common.wait_discovered(L, CLI, names + ["canary-bad", "far-away", "bad-app-dev"]
                                  + extra, timeout=45)
    c.check("discovered", len(seen) >= N + 6, f"{len(seen)}")

    # twenty at once, eight at a time, two canaries first
    rc, doc, err = common.push(L, CLI, image, [], "--match", "line-*", "--concurrency", "8",
                               "--canary", "2", timeout=600)
    jobs = (doc or {}).get("jobs", [])
    c.check("fleet-exit", rc == 0, f"rc={rc} {err[-800:]}")
    c.check("fleet-all", len(jobs) == N, f"{len(jobs)} jobs")
    c.check("fleet-verified", all(j["result"] == "verified" for j in jobs),
            [(j["name"], j["result"], j["error"]) for j in jobs if j["result"] != "verified"])

    # the first canary fails: nobody else is touched
    rc, doc, err = common.push(L, CLI, image, ["canary-bad"] + extra, "--canary", "1",
                               "--concurrency", "4", timeout=300)
    bad = common.job_of(doc, "canary-bad")
    rest = [common.job_of(doc, n) for n in extra]
    c.check("canary-exit", rc == 1, f"rc={rc}")
    c.check("canary-failed", bad is not None and bad["result"] == "failed", f"{bad}")
    c.check("canary-rest-skipped", all(j is not None and j["result"] == "skipped"
                                       and "canary" in (j["error"] or "") for j in rest),
            f"{rest}")
    for n in extra:
        info = common.device_info(L, devs[n].address)
        c.check(f"canary-untouched-{n}", info is not None and info.get("version") == "1.0.0",
                f"{info}")

    # a shaped, lossy link
    rc, doc, err = common.push(L, CLI, image, ["far-away"], timeout=300)
    job = common.job_of(doc, "far-away")
    c.check("shaped-verified", rc == 0 and job is not None and job["result"] == "verified",
            f"rc={rc} {job} {err[-500:]}")

    # an app that never confirms itself: the bootloader rolls back, the push says so
    bad_image = common.make_image(GEN, L.tmp, "esp32-app", "5.0.0-bad-app", name="bad.bin")
    rc, doc, err = common.push(L, CLI, bad_image, ["bad-app-dev"], timeout=300)
    job = common.job_of(doc, "bad-app-dev")
    c.check("bad-app-rolled-back", rc == 1 and job is not None and job["result"] == "rolled-back",
            f"rc={rc} {job} {err[-500:]}")
    # the device's /info said why, so the job does not guess
    c.check("bad-app-rollback-worded", job is not None
            and "did not confirm itself" in (job["error"] or "")
            and "rolled back?" not in (job["error"] or ""), f"{job}")
    info = common.wait_info(L, badapp.address, lambda i: i.get("version") == "1.0.0")
    c.check("bad-app-old-version", info is not None and info.get("version") == "1.0.0", f"{info}")

c.finish()
