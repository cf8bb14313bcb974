# SPDX-License-Identifier: GPL-3.0-or-later
"""common.py - what the LAN tests share: images, simulated devices, push, checks"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lan  # noqa: E402,F401


class Checks:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failures.append(name)
            print(f"FAIL {name}: {detail}", file=sys.stderr, flush=True)
        return cond

    def finish(self):
        print(f"{self.passed} passed, {len(self.failures)} failed", flush=True)
        sys.exit(1 if self.failures else 0)


def make_image(gen, tmp, kind, version, name=None, project="espfleet-sim"):
    path = os.path.join(tmp, name or f"{kind}-{version}.bin")
    subprocess.run([gen, kind, path, "--version", version, "--project", project], check=True)
    return path


def sim_args(lanobj, name, chip="esp32", flavor=None, password=None, auth="md5", faults=(),
             version="1.0.0", extra=()):
    """Arguments for espfleet-sim: fast flash, short boot, quick self-confirmation."""
    flavor = flavor or ("esp8266" if chip == "esp8266" else "esp32")
    args = ["--name", name, "--chip", chip, "--flavor", flavor,
            "--state-dir", os.path.join(lanobj.tmp, "state"), "--flash-speed", "fast",
            "--ota-port", "8266" if flavor == "esp8266" else "3232", "--http-port", "8080",
            "--log-port", "2323", "--fw-version", version, "--boot-time", "300",
            "--confirm-after", "1"]
    if password is not None:
        pwfile = os.path.join(lanobj.tmp, f"pw-{name}")
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        args += ["--password-file", pwfile, "--auth", auth]
    for fault in faults:
        args += ["--fault", fault]
    return args + list(extra)


def wait_discovered(lanobj, cli, names, timeout=30):
    """Poll discover until every name is there; returns {name: device}."""
    deadline = time.monotonic() + timeout
    seen = {}
    while time.monotonic() < deadline:
        r = lanobj.run([cli, "discover", "--json", "--timeout", "2"], timeout=60)
        if r.returncode == 0:
            seen = {d["name"]: d for d in json.loads(r.stdout)["devices"]}
            if all(n in seen for n in names):
                return seen
        time.sleep(0.5)
    return seen


def push(lanobj, cli, image, targets, *opts, password=None, timeout=300):
    """espfleet-cli push --json; returns (exit code, parsed JSON or None, stderr)."""
    argv = [cli, "push", "--image", image, "--json", "--discover-timeout", "15",
            "--verify-timeout", "40"] + list(opts) + list(targets)
    if password is not None:
        pwfile = os.path.join(lanobj.tmp, f"push-password-{'-'.join(targets) or 'all'}")
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        argv[2:2] = ["--password-file", pwfile]
    r = lanobj.run(argv, timeout=timeout)
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError:
        doc = None
    return r.returncode, doc, r.stderr + r.stdout[-2000:]


def push_many(lanobj, cli, calls, timeout=300):
    """Several push commands at once (different devices); returns their results in order.

    @calls: list of (image, targets, opts, password)
    """
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
        futures = [pool.submit(push, lanobj, cli, image, targets, *opts, password=password,
                               timeout=timeout)
                   for image, targets, opts, password in calls]
        return [f.result() for f in futures]


def device_info(lanobj, address, port=8080):
    """GET /info from the app namespace with curl; None when the device does not answer."""
    r = lanobj.run(["curl", "-s", "--max-time", "3", f"http://{address}:{port}/info"], timeout=10)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        return None


def wait_info(lanobj, address, cond, timeout=20):
    deadline = time.monotonic() + timeout
    info = None
    while time.monotonic() < deadline:
        info = device_info(lanobj, address)
        if info is not None and cond(info):
            return info
        time.sleep(0.3)
    return info


def job_of(doc, name):
    for job in (doc or {}).get("jobs", []):
        if job.get("name") == name:
            return job
    return None
