#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-push.py - espota and HTTP pushes to simulated devices found over mDNS

usage: test-push.py ESPFLEET_CLI ESPFLEET_SIM FLEET_TEST_IMAGE_GEN

espota without a password, with the legacy MD5 challenge (ESP8266 flavour) and with the
PBKDF2-SHA256 challenge (ESP32 >= 3.3.1); HTTP POST with and without Basic auth. Every push
must end "verified", and the device's own GET /info must then report the new version,
confirmed (running_state valid).
"""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import lan  # noqa: E402

CLI, SIM, GEN = sys.argv[1], sys.argv[2], sys.argv[3]
c = common.Checks()

CASES = [
    # name, chip, flavour, password, auth, protocol
    ("ota-open", "esp32", "esp32", None, "md5", "espota"),
    ("ota-md5-8266", "esp8266", "esp8266", "hunter2", "md5", "espota"),
    ("ota-pbkdf2", "esp32", "esp32", "correct horse", "sha256", "espota"),
    ("ota-md5-esp32", "esp32", "esp32", "p@ss", "md5", "espota"),
    ("http-open", "esp32", "esp32", None, "md5", "http"),
    ("http-basic", "esp32", "esp32", "s3cret", "md5", "http"),
]

with lan.Lan(keep_logs=os.environ.get("FLEET_LAN_LOGS")) as L:
    devs = {}
    for name, chip, flavor, password, auth, _ in CASES:
        d = L.add_device()
        L.start_sim(d, SIM, common.sim_args(L, name, chip, flavor, password, auth))
        devs[name] = d
    seen = common.wait_discovered(L, CLI, [case[0] for case in CASES])
    c.check("discovered", len(seen) == len(CASES), sorted(seen))

    esp32_img = common.make_image(GEN, L.tmp, "esp32-app", "2.0.0")
    esp8266_img = common.make_image(GEN, L.tmp, "arduino-bin", "2.0.0")
    def image_for(chip):
        return esp8266_img if chip == "esp8266" else esp32_img

    # all six pushes at once, each to its own device
    results = common.push_many(L, CLI, [(image_for(chip), [name], ["--protocol", protocol],
                                         password)
                                        for name, chip, flavor, password, auth, protocol in CASES])
    for (name, chip, flavor, password, auth, protocol), (rc, doc, err) in zip(CASES, results):
        image = image_for(chip)
        job = common.job_of(doc, name)
        c.check(f"{name}-exit", rc == 0, f"rc={rc}: {err}")
        c.check(f"{name}-verified", job is not None and job["result"] == "verified",
                f"{job}")
        c.check(f"{name}-protocol", job is not None and job["protocol"] == protocol, f"{job}")
        # the transfer phase (connect-back or request to the device's verdict) lies inside
        # the whole push, which also waits for the reboot
        c.check(f"{name}-transfer-time", job is not None
                and 0 < job["transfer_s"] < job["duration_s"], f"{job}")
        # an Arduino ESP8266 .bin carries no version: its SHA-256 identifies it
        sha = hashlib.sha256(open(image, "rb").read()).hexdigest()
        info = common.wait_info(L, devs[name].address,
                                lambda i: i.get("running_state") == "valid"
                                and i.get("fw_sha256") == sha)
        c.check(f"{name}-info", info is not None and info.get("fw_sha256") == sha
                and info.get("running_state") == "valid"
                and (chip == "esp8266" or info.get("version") == "2.0.0"), f"{info}")

    # a password-protected device without any password: a clear failure, no prompt (no TTY)
    rc, doc, err = common.push(L, CLI, esp32_img, ["ota-pbkdf2"], "--protocol", "espota")
    job = common.job_of(doc, "ota-pbkdf2")
    c.check("no-password-fails", rc == 1 and job is not None and job["result"] == "failed"
            and "needs a password" in (job["error"] or "") and job["transfer_s"] == 0,
            f"{rc} {job}")
    # a wrong one is named as such
    rc, doc, err = common.push(L, CLI, esp32_img, ["ota-md5-esp32"], "--protocol", "espota",
                               password="wrong")
    job = common.job_of(doc, "ota-md5-esp32")
    c.check("wrong-password", rc == 1 and job is not None
            and "Wrong password" in (job["error"] or ""), f"{rc} {job}")

c.finish()
