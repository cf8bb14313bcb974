#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-faults.py - every simulator fault over each transport, then a clean retry

usage: test-faults.py ESPFLEET_CLI ESPFLEET_SIM FLEET_TEST_IMAGE_GEN

For each fault the push must fail with the error text that names the cause, the device
must still run (and report through GET /info) its previous firmware, and a retry with the
fault gone must verify.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import lan  # noqa: E402

CLI, SIM, GEN = sys.argv[1], sys.argv[2], sys.argv[3]
c = common.Checks()

# fault, protocols it applies to, expected words in the error, extra push options, chip
FAULTS = [
    ("drop-at=60000", ["espota", "http"], ["connection"], [], "esp32"),
    ("stall-at=60000:8", ["espota"], ["stalled"], ["--stall-timeout", "3"], "esp32"),
    ("md5-mismatch", ["espota", "http"], ["MD5 mismatch"], [], "esp32"),
    ("md5-mismatch", ["espota"], ["MD5 mismatch"], [], "esp8266"),
    ("auth-reject", ["espota", "http"], ["Wrong password"], [], "esp32"),
    ("no-connect-back", ["espota"], ["never connected back", "firewall"],
     ["--connect-timeout", "4"], "esp32"),
    # an ESP32 that cannot begin stays silent, as the real one does; an ESP8266 says why
    ("begin-error", ["espota"], ["never connected back"], ["--connect-timeout", "4"], "esp32"),
    ("begin-error", ["espota"], ["not enough space"], [], "esp8266"),
    ("begin-error", ["http"], ["not enough space"], [], "esp32"),
]

with lan.Lan(keep_logs=os.environ.get("FLEET_LAN_LOGS")) as L:
    images = {"esp32": common.make_image(GEN, L.tmp, "esp32-app", "3.0.0"),
              "esp8266": common.make_image(GEN, L.tmp, "arduino-bin", "3.0.0")}
    cases = [(fault, proto, words, opts, chip) for fault, protos, words, opts, chip in FAULTS
             for proto in protos]
    devs = []
    for i, (fault, proto, words, opts, chip) in enumerate(cases):
        d = L.add_device()
        name = f"fault-{i}"
        args = common.sim_args(L, name, chip=chip, password="pw", faults=[fault])
        L.start_sim(d, SIM, args)
        devs.append((d, name, args))
    seen = common.wait_discovered(L, CLI, [n for _, n, _ in devs])
    c.check("discovered", len(seen) == len(devs), sorted(seen))

    # every faulty push at once: each device has its own fault
    results = common.push_many(L, CLI, [(images[chip], [name], ["--protocol", proto] + opts, "pw")
                                        for (fault, proto, words, opts, chip), (d, name, args)
                                        in zip(cases, devs)])
    for (fault, proto, words, opts, chip), (d, name, args), (rc, doc, err) in zip(cases, devs,
                                                                                 results):
        tag = f"{fault.split('=')[0]}-{proto}-{chip}"
        job = common.job_of(doc, name)
        error = (job or {}).get("error") or ""
        c.check(f"{tag}-fails", rc == 1 and job is not None and job["result"] == "failed",
                f"rc={rc} {job} {err[-500:]}")
        c.check(f"{tag}-names-cause", all(w.lower() in error.lower() for w in words),
                f"error {error!r} lacks {words}")
        info = common.wait_info(L, d.address, lambda i: i.get("version") is not None)
        c.check(f"{tag}-old-firmware", info is not None and info.get("version") == "1.0.0",
                f"{info}")

    # the faults are gone (the simulators restart on their saved flash): retries verify
    for d, name, args in devs:
        L.stop_device_procs(d)
        clean = list(args)
        while "--fault" in clean:
            k = clean.index("--fault")
            del clean[k:k + 2]
        L.start_sim(d, SIM, clean, log=f"sim-{d.index}-clean")
    for d, name, args in devs:
        common.wait_info(L, d.address, lambda i: i.get("version") == "1.0.0")
    results = common.push_many(L, CLI, [(images[chip], [name], ["--protocol", proto], "pw")
                                        for (fault, proto, words, opts, chip), (d, name, args)
                                        in zip(cases, devs)])
    for (fault, proto, words, opts, chip), (d, name, args), (rc, doc, err) in zip(cases, devs,
                                                                                 results):
        tag = f"{fault.split('=')[0]}-{proto}-{chip}"
        job = common.job_of(doc, name)
        c.check(f"{tag}-retry", rc == 0 and job is not None and job["result"] == "verified",
                f"rc={rc} {job} {err[-500:]}")

c.finish()
