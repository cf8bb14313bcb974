#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-sim.py - espfleet-sim driven the way real uploaders drive a device

usage: test-sim.py ESPFLEET_SIM FLEET_TEST_IMAGE_GEN

Everything runs on 127.0.0.1 with ports picked free; every simulator started here is
stopped here. The uploaders are written from specs/espota.md and specs/http-ota.md, not
from the simulator: an espota client like espota.py (invitation and auth from one UDP
socket, a TCP listener the device connects back to, legacy MD5 and PBKDF2 auth, 1460-byte
stop-and-wait or fully pipelined), a multipart POST shaped like a browser's and
curl -F, and GET /info.
"""

import atexit
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SIM, GEN = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="sim-test-")
PROCS = []
FAILED = []
PASSED = [0]
LOCK = threading.Lock()  # groups run in threads
TAKEN = set()  # ports handed out, so that two groups never pick the same one


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(cleanup)


def check(name, cond, detail=""):
    with LOCK:
        if cond:
            PASSED[0] += 1
            print(f"ok   {name}", flush=True)
        else:
            FAILED.append(name)
            print(f"FAIL {name}: {detail}", flush=True)
    return cond


# ---- helpers -------------------------------------------------------------------------


def ports_free(ports):
    """true when every port is free for TCP and UDP on 127.0.0.1 and no group holds it"""
    socks = []
    try:
        with LOCK:
            if any(p in TAKEN for p in ports):
                return False
            for p in ports:
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    x = socket.socket(socket.AF_INET, kind)
                    socks.append(x)
                    x.bind(("127.0.0.1", p))
            TAKEN.update(ports)
            return True
    except OSError:
        return False
    finally:
        for x in socks:
            x.close()


def free_ports(n):
    """n ports below the ephemeral range (32768-) that no other group of this test uses"""
    ports = []
    while len(ports) < n:
        port = random.randint(20000, 32000)
        if ports_free([port]):
            ports.append(port)
    return ports


def free_block(offsets):
    """a base port p with p + offset free for every offset"""
    while True:
        base = random.randint(20000, 31500)
        if ports_free([base + off for off in offsets]):
            return base


def make_image(kind, version, project="espfleet-sim", name=None):
    path = os.path.join(TMP, name or f"{kind}-{version}.bin")
    subprocess.run([GEN, kind, path, "--version", version, "--project", project], check=True)
    with open(path, "rb") as f:
        return path, f.read()


class Sim:
    """One espfleet-sim process with its own ports and state directory."""

    def __init__(self, name="t", state=None, chip="esp32", flavor=None, extra=(),
                 confirm="0.6", count=1):
        self.name = name
        self.state = state or tempfile.mkdtemp(dir=TMP, prefix="state-")
        self.ota, self.http, self.log = free_ports(3)
        self.args = [SIM, "--state-dir", self.state, "--name", name, "--chip", chip,
                     "--flash-speed", "fast", "--boot-time", "150", "--confirm-after", confirm,
                     "--ota-port", str(self.ota), "--http-port", str(self.http),
                     "--log-port", str(self.log), "--heartbeat", "0.4"]
        if flavor:
            self.args += ["--flavor", flavor]
        if count > 1:
            self.args += ["--count", str(count)]
        self.args += list(extra)
        self.proc = None
        self.out = None
        self.own_ports = count == 1

    def start(self, extra=(), wait=True):
        for attempt in range(3):
            with LOCK:
                self.out = os.path.join(TMP, f"sim-{self.name}-{len(PROCS)}.log")
                with open(self.out, "w") as f:
                    self.proc = subprocess.Popen(self.args + list(extra), stdout=f,
                                                 stderr=subprocess.STDOUT)
                PROCS.append(self.proc)
            if not wait:
                return self
            self.wait_info(lambda i: True, timeout=20)
            # another program on this machine took one of the ports meanwhile: new ports
            if self.proc.poll() == 1 and "cannot bind" in self.output() and self.own_ports:
                self.rebind(*free_ports(3))
                continue
            break
        return self

    def rebind(self, ota, http, log):
        self.ota, self.http, self.log = ota, http, log
        for opt, port in (("--ota-port", ota), ("--http-port", http), ("--log-port", log)):
            self.args[self.args.index(opt) + 1] = str(port)

    def stop(self):
        """SIGTERM; a running simulator must shut down cleanly (exit 0) within 5 s"""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            check(f"{self.name}-clean-shutdown", self.proc.returncode == 0,
                  f"exit {self.proc.returncode}")
        return self.proc.returncode

    def output(self):
        with open(self.out, errors="replace") as f:
            return f.read()

    def info(self, port=None):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port or self.http, timeout=2)
            c.request("GET", "/info")
            r = c.getresponse()
            body = r.read()
            c.close()
            return json.loads(body) if r.status == 200 else None
        except (OSError, ValueError, http.client.HTTPException):
            return None

    def wait_info(self, cond, timeout=10, port=None):
        deadline = time.monotonic() + timeout
        info = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return None
            info = self.info(port)
            if info is not None and cond(info):
                return info
            time.sleep(0.03)
        return info

    def log_history(self, wait_for=None, timeout=5):
        """Connects to the log port and reads until wait_for shows up (or timeout)."""
        data = b""
        deadline = time.monotonic() + timeout
        try:
            s = socket.create_connection(("127.0.0.1", self.log), timeout=2)
        except OSError:
            return ""
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            except socket.timeout:
                pass
            if wait_for is None or wait_for.encode() in data:
                if wait_for is not None:
                    break
        s.close()
        return data.decode(errors="replace")

    def ops_so_far(self):
        found = re.findall(r"flash operations so far: (\d+)", self.output())
        return [int(x) for x in found]


# ---- an espota uploader (specs/espota.md sections 1-6) ------------------------------


def md5hex(b):
    return hashlib.md5(b).hexdigest()


def sha256hex(b):
    return hashlib.sha256(b).hexdigest()


def espota(port, data, password=None, pipelined=False, filename="firmware.bin", cmd=0,
           chunk=1460, stall_timeout=10.0, connect_timeout=4.0, host="127.0.0.1"):
    """Returns (result, text): result is 'ok', 'auth', 'noanswer', 'noconnect', 'err', or
    'fail'; text is what the device said (UDP reply or TCP ack stream)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    host_port = listener.getsockname()[1]
    md5 = md5hex(data)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(5)
    try:
        udp.sendto(b"%d %d %d %s\n" % (cmd, host_port, len(data), md5.encode()), (host, port))
        try:
            reply = udp.recv(128).decode()
        except socket.timeout:
            return "noanswer", ""
        if reply.startswith("AUTH"):
            nonce = reply.split()[1]
            cnonce_text = f"{filename}{len(data)}{md5}{host}".encode()
            if len(nonce) == 32:
                cnonce = md5hex(cnonce_text)
                key = md5hex((password or "").encode())
                response = md5hex(f"{key}:{nonce}:{cnonce}".encode())
            else:
                cnonce = sha256hex(cnonce_text)
                ph = sha256hex((password or "").encode())
                dk = hashlib.pbkdf2_hmac("sha256", ph.encode(), f"{nonce}:{cnonce}".encode(),
                                         10000, 32).hex()
                response = sha256hex(f"{dk}:{nonce}:{cnonce}".encode())
            # the auth message from the same socket as the invitation
            udp.sendto(f"200 {cnonce} {response}\n".encode(), (host, port))
            try:
                reply = udp.recv(64).decode()
            except socket.timeout:
                return "noanswer", ""
            if reply != "OK":
                return "auth", reply
        elif reply != "OK":
            return "err", reply
        listener.settimeout(connect_timeout)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            return "noconnect", ""
    finally:
        udp.close()
        listener.close()
    conn.settimeout(stall_timeout)
    acks = b""
    try:
        if pipelined:
            def sender():
                try:
                    conn.sendall(data)
                except OSError:
                    pass
            t = threading.Thread(target=sender, daemon=True)
            t.start()
        else:
            for off in range(0, len(data), chunk):
                conn.sendall(data[off:off + chunk])
                got = conn.recv(32)  # espota.py waits for an ack after every chunk
                if not got:
                    return "fail", acks.decode(errors="replace")
                acks += got
                if re.search(rb"[A-JL-NP-Za-z]", acks):
                    break
        # the result: OK, an error text, or a close
        while b"OK" not in acks and not re.search(rb"[A-JL-NP-Za-z]", acks):
            got = conn.recv(64)
            if not got:
                break
            acks += got
        text = acks.decode(errors="replace")
        if "OK" in text:
            return "ok", text
        return ("err" if re.search(r"[A-JL-NP-Za-z]", text) else "fail"), text
    except (socket.timeout, ConnectionError, OSError) as e:
        return "fail", acks.decode(errors="replace") + f" [{e}]"
    finally:
        conn.close()


# ---- HTTP uploads (specs/http-ota.md section 1a) ------------------------------------


def http_multipart(port, data, filename="firmware.bin", field="firmware", auth=None):
    """A POST /update shaped like a browser's form submission. Returns (status, body)."""
    boundary = "----WebKitFormBoundary" + "".join(random.choice("abcdefXYZ0123") for _ in range(16))
    body = (f"--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
               "Origin": f"http://127.0.0.1:{port}", "Referer": f"http://127.0.0.1:{port}/update",
               "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) test-sim"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/update", body=body, headers=headers)
        r = c.getresponse()
        text = r.read().decode(errors="replace")
        c.close()
        return r.status, text
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


def curl_upload(port, path, auth=None):
    if shutil.which("curl") is None:
        return None
    argv = ["curl", "-s", "--max-time", "20", "-w", "\n%{http_code}", "-F",
            f"firmware=@{path};filename=x.bin", f"http://127.0.0.1:{port}/update"]
    if auth is not None:
        argv[1:1] = ["-u", auth]
    r = subprocess.run(argv, capture_output=True, text=True)
    return r.stdout


# ---- the tests -----------------------------------------------------------------------

t0 = time.monotonic()

img2, data2 = make_image("esp32-app", "2.0.0")
img3, data3 = make_image("esp32-app", "3.0.0")
img4, data4 = make_image("esp32-app", "4.0.0")
img5, data5 = make_image("esp32-app", "5.0.0")
imgbad, databad = make_image("esp32-app", "6.0.0-bad-app", name="bad.bin")

# --help documents every option and fault
helptext = subprocess.run([SIM, "--help"], capture_output=True, text=True).stdout
check("help-documents-all",
      all(w in helptext for w in ["--name", "--chip", "--flavor", "--ota-port", "--http-port",
                                  "--log-port", "--password-file", "--auth", "--state-dir",
                                  "--flash-speed", "--count", "--bind", "--boot-time",
                                  "--confirm-after", "--log-rate", "drop-at=BYTES",
                                  "stall-at=BYTES:SECS", "md5-mismatch", "auth-reject",
                                  "no-connect-back", "begin-error", "power-cut-at-op=K",
                                  "bad-app", "fw_sha256", "mDNS"]),
      helptext[:200])
r = subprocess.run([SIM, "--fault", "nonsense"], capture_output=True, text=True)
check("bad-fault-is-usage-error", r.returncode == 2, r.stderr)

pwfile = os.path.join(TMP, "pw")
with open(pwfile, "w") as f:
    f.write("s3cret\n")

def group_main():
    # -- first start, boot lines, heartbeat, log stream ---------------------------------------
    sim = Sim("t").start()
    info = sim.info()
    check("first-boot-info",
          info is not None and info["version"] == "1.0.0" and info["running_slot"] == "ota_0"
          and info["running_state"] == "valid" and info["boot_count"] == 1
          and info["project"] == "espfleet-sim" and info["chip"] == "esp32"
          and re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", info["mac"]) is not None
          and int(info["mac"][:2], 16) & 3 == 2 and len(info["fw_sha256"]) == 64
          and info["free_space"] == info["slot_size"] > 1000000
          and info["reset_reason"] == "power_on", f"{info}")
    check("info-fields-exact",
          info is not None and set(info) == {"name", "mac", "chip", "board", "project", "version",
                                             "fw_sha256", "running_slot", "running_state",
                                             "slot_size", "free_space", "uptime", "boot_count",
                                             "last_update", "idf_version", "reset_reason"},
          f"{info and sorted(info)}")
    mac = info["mac"] if info else None
    hist = sim.log_history(wait_for="heartbeat: uptime", timeout=3)
    check("log-boot-lines", "I (" in hist and "boot: ESP-IDF" in hist and "esp_image: segment 0"
          in hist and "app_main: espfleet-sim 1.0.0 starting" in hist and "\033[0;32m" in hist,
          hist[:300])
    check("log-heartbeat", "heartbeat: uptime" in hist, hist[-300:])

    # -- espota, stop-and-wait, MD5-less device ----------------------------------------------
    res, text = espota(sim.ota, data2)
    check("espota-stop-and-wait", res == "ok", f"{res} {text[-80:]}")
    pend = sim.wait_info(lambda i: i["version"] == "2.0.0")
    check("espota-new-version-pending", pend is not None and pend["running_state"] == "pending_verify"
          and pend["running_slot"] == "ota_1" and pend["boot_count"] == 2
          and pend["fw_sha256"] == sha256hex(data2) and pend["last_update"] == "ok"
          and pend["reset_reason"] == "software", f"{pend}")
    valid = sim.wait_info(lambda i: i["running_state"] == "valid")
    check("espota-confirms", valid is not None and valid["version"] == "2.0.0", f"{valid}")

    # -- espota, fully pipelined -------------------------------------------------------------
    res, text = espota(sim.ota, data3, pipelined=True)
    check("espota-pipelined", res == "ok", f"{res} {text[-80:]}")
    valid = sim.wait_info(lambda i: i["version"] == "3.0.0" and i["running_state"] == "valid")
    check("espota-pipelined-valid", valid is not None and valid["running_slot"] == "ota_0", f"{valid}")

    # -- HTTP: a browser-shaped multipart POST, then curl -F ---------------------------------
    status, body = http_multipart(sim.http, data4)
    check("http-multipart", status == 200 and "Update Success! Rebooting..." in body, f"{status} {body}")
    valid = sim.wait_info(lambda i: i["version"] == "4.0.0" and i["running_state"] == "valid")
    check("http-multipart-valid", valid is not None and valid["fw_sha256"] == sha256hex(data4),
          f"{valid}")
    out = curl_upload(sim.http, img5)
    if out is not None:
        check("http-curl", "Update Success" in out and out.strip().endswith("200"), out)
        valid = sim.wait_info(lambda i: i["version"] == "5.0.0" and i["running_state"] == "valid")
        check("http-curl-valid", valid is not None, f"{valid}")
    else:
        status, body = http_multipart(sim.http, data5)
        sim.wait_info(lambda i: i["version"] == "5.0.0" and i["running_state"] == "valid")

    # -- a bad app never confirms: the bootloader rolls back ---------------------------------
    res, text = espota(sim.ota, databad)
    check("bad-app-upload", res == "ok", f"{res} {text}")
    pend = sim.wait_info(lambda i: i["version"] == "6.0.0-bad-app")
    check("bad-app-boots-pending", pend is not None and pend["running_state"] == "pending_verify",
          f"{pend}")
    back = sim.wait_info(lambda i: i["version"] == "5.0.0", timeout=8)
    check("bad-app-rolled-back", back is not None and back["last_update"] == "rolled back"
          and back["running_state"] == "valid", f"{back}")
    hist = sim.log_history(wait_for="rolled back", timeout=3)
    check("bad-app-log", "marked ABORTED" in hist and "rolled back" in hist, hist[-600:])
    check("bad-app-fault-log", "self-test failed" in sim.output(), "")

    # -- persistence: a restarted simulator boots what was flashed ---------------------------
    boots = back["boot_count"] if back else 0
    check("clean-exit", sim.stop() == 0, "")
    sim.start()
    info = sim.info()
    check("persist-version-mac", info is not None and info["version"] == "5.0.0"
          and info["mac"] == mac and info["boot_count"] == boots + 1
          and info["last_update"] == "rolled back", f"{info}")
    sim.stop()

def group_fault_bad_app():
    # -- --fault bad-app on a good image -----------------------------------------------------
    sim = Sim("fb", extra=["--fault", "bad-app"]).start()
    res, _ = espota(sim.ota, data2)
    back = sim.wait_info(lambda i: i["last_update"] == "rolled back", timeout=8)
    check("fault-bad-app", res == "ok" and back is not None and back["version"] == "1.0.0"
          and "fault: bad-app fired" in sim.output(), f"{back}")
    res, _ = espota(sim.ota, data2)
    ok = sim.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid")
    check("fault-bad-app-retry", res == "ok" and ok is not None, f"{ok}")
    sim.stop()

def group_auth():
    # -- passwords: legacy MD5 and PBKDF2, HTTP Basic ----------------------------------------
    sim = Sim("pw", extra=["--password-file", pwfile, "--auth", "md5"]).start()
    res, text = espota(sim.ota, data2, password="wrong")
    check("md5-auth-wrong", res == "auth" and text == "Authentication Failed", f"{res} {text}")
    res, text = espota(sim.ota, data2, password="s3cret")
    check("md5-auth-right", res == "ok", f"{res} {text}")
    sim.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid")
    status, body = http_multipart(sim.http, data3)
    check("http-needs-auth", status == 401, f"{status} {body}")
    status, body = http_multipart(sim.http, data3, auth="admin:s3cret")
    check("http-basic-auth", status == 200 and "Update Success" in body, f"{status} {body}")
    sim.wait_info(lambda i: i["version"] == "3.0.0" and i["running_state"] == "valid")
    with open(os.path.join(sim.state, "pw", "password")) as f:
        stored = f.read()
    check("password-hash-stored", stored.strip() == "md5 " + md5hex(b"s3cret")
          and "s3cret" not in sim.output(), stored)
    sim.stop()

    sim = Sim("pb", extra=["--password-file", pwfile, "--auth", "sha256"]).start()
    res, text = espota(sim.ota, data2, password="s3cret", pipelined=True)
    check("pbkdf2-auth-right", res == "ok", f"{res} {text}")
    sim.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid")
    res2, text2 = espota(sim.ota, data3, password="nope")
    check("pbkdf2-auth-wrong", res2 == "auth" and text2 == "Authentication Failed", f"{res2} {text2}")
    sim.stop()

    # a restart without --password-file: espota keeps the stored hash, HTTP is refused
    k = sim.args.index("--password-file")
    sim.args[k:k + 2] = []
    k = sim.args.index("--auth")
    sim.args[k:k + 2] = []
    sim.start()
    check("stored-hash-note", "HTTP uploads are refused" in sim.output(), sim.output()[:300])
    res, text = espota(sim.ota, data3, password="nope")
    check("stored-hash-refuses-wrong", res == "auth", f"{res} {text}")
    status, body = http_multipart(sim.http, data3, auth="admin:s3cret")
    check("stored-hash-http-locked", status == 401, f"{status}")
    res, text = espota(sim.ota, data3, password="s3cret")
    ok = sim.wait_info(lambda i: i["version"] == "3.0.0" and i["running_state"] == "valid")
    check("stored-hash-espota", res == "ok" and ok is not None, f"{res} {ok}")
    sim.stop()


def group_extras():
    # -- --initial-image, --make-image ---------------------------------------------------
    sim = Sim("ii", extra=["--initial-image", img3]).start()
    info = sim.info()
    check("initial-image", info is not None and info["version"] == "3.0.0"
          and info["fw_sha256"] == sha256hex(data3), f"{info}")
    made = os.path.join(TMP, "made.bin")
    r = subprocess.run([SIM, "--make-image", made, "--chip", "esp32", "--project", "made-here",
                        "--fw-version", "7.7.7"], capture_output=True, text=True)
    with open(made, "rb") as f:
        madedata = f.read()
    res, text = espota(sim.ota, madedata, pipelined=True)
    ok = sim.wait_info(lambda i: i["version"] == "7.7.7" and i["running_state"] == "valid")
    check("make-image-uploads", r.returncode == 0 and res == "ok" and ok is not None
          and ok["project"] == "made-here", f"{r.stdout} {res} {ok}")
    check("progress-lines", all(f"progress: {p}%" in sim.output() for p in (10, 50, 100)),
          sim.output()[-500:])

    # -- filesystem images: espota command 100 and the form's filesystem field -----------
    fsdata = bytes(random.getrandbits(8) for _ in range(50000))
    res, text = espota(sim.ota, fsdata, cmd=100)
    back = sim.wait_info(lambda i: i["boot_count"] == ok["boot_count"] + 1)
    check("espota-filesystem", res == "ok" and back is not None and back["version"] == "7.7.7"
          and back["last_update"] == "ok" and "filesystem image written" in sim.output(),
          f"{res} {text} {back}")
    status, body = http_multipart(sim.http, fsdata, field="filesystem")
    back2 = sim.wait_info(lambda i: i["boot_count"] == back["boot_count"] + 1)
    check("http-filesystem", status == 200 and back2 is not None and back2["version"] == "7.7.7",
          f"{status} {body} {back2}")
    sim.stop()

    # -- an image larger than the slot, on a 1 MB flash -----------------------------------
    big = bytes([0xE9]) + bytes(random.getrandbits(8) for _ in range(450000))
    sim = Sim("big8", flavor="esp8266", extra=["--flash-size", "1M"]).start()
    res, text = espota(sim.ota, big)
    check("too-large-esp8266", (res, text) == ("err", "ERR: ERROR[4]: Not Enough Space\n"),
          f"{res} {text}")
    status, body = http_multipart(sim.http, big)
    check("too-large-http", status == 200 and "Update error: ERROR[4]: Not Enough Space" in body,
          f"{status} {body}")
    info = sim.info()
    check("too-large-last-update", info is not None and info["slot_size"] == 0x60000
          and info["last_update"] == "Not Enough Space", f"{info}")
    sim.stop()

    # -- --log-rate: synthetic lines on the stream ----------------------------------------
    sim = Sim("lr", extra=["--log-rate", "200", "--quiet"]).start()
    time.sleep(0.2)
    hist = sim.log_history(wait_for="seq=150 ", timeout=3)
    n = hist.count("sensor: seq=")
    check("log-rate", n >= 150 and "seq=150 " in hist, f"{n} lines")
    check("quiet", "boot:" not in sim.output(), sim.output()[:200])
    sim.stop()


def group_realistic():
    # -- realistic flash timing, charged per device: two devices update in parallel -------
    sim = Sim("rt", count=2, extra=["--flash-speed", "realistic"])
    p = free_block([0, 1, 100, 101, 200, 201])
    sim.args[sim.args.index("--ota-port") + 1] = str(p)
    sim.args[sim.args.index("--http-port") + 1] = str(p + 100)
    sim.args[sim.args.index("--log-port") + 1] = str(p + 200)
    sim.args[sim.args.index("--flash-speed") + 1] = "realistic"
    sim.http = p + 100
    sim.start()
    times = {}

    def one(k):
        start = time.monotonic()
        times[k] = (espota(p + k, data2)[0], time.monotonic() - start)

    start = time.monotonic()
    threads = [threading.Thread(target=one, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    # the ESP32 flavour erases the announced size up front: 64 KiB blocks (150 ms) where
    # aligned (slots start on 64 KiB), 4 KiB sectors (45 ms) for the rest; 0.8 ms per page
    size4k = (len(data2) + 4095) // 4096 * 4096
    model = (size4k // 65536 * 0.150 + size4k % 65536 // 4096 * 0.045
             + (len(data2) + 255) // 256 * 0.8e-3)
    check("realistic-takes-model-time", all(r == "ok" and t >= model * 0.9
                                             for r, t in times.values()),
          f"{times} model {model:.2f} s")
    check("realistic-devices-in-parallel", wall < 1.6 * max(t for _, t in times.values()),
          f"wall {wall:.2f} s, {times}")
    print(f"--   realistic: {len(data2)} bytes in {times[0][1]:.2f} s "
          f"({len(data2) / times[0][1] / 1024:.1f} KiB/s), two devices {wall:.2f} s", flush=True)
    sim.stop()

# -- faults: the device's real error, the old version, then a clean retry ----------------
def fault_case(tag, fault, attempt, expect, extra=(), flavor=None):
    s = Sim(tag, extra=["--fault", fault] + list(extra), flavor=flavor).start()
    result = attempt(s)
    info = s.wait_info(lambda i: True, timeout=5)
    check(f"fault-{tag}", expect(result), f"{result}")
    check(f"fault-{tag}-old-version", info is not None and info["version"] == "1.0.0",
          f"{info}")
    check(f"fault-{tag}-logged", "fault: " in s.output() and " fired" in s.output(),
          s.output()[-400:])
    return s


def retry_espota(s, **kw):
    res, text = espota(s.ota, data2, **kw)
    ok = s.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid")
    return res == "ok" and ok is not None


def retry_http(s, auth=None):
    status, body = http_multipart(s.http, data2, auth=auth)
    ok = s.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid")
    return status == 200 and ok is not None


def stalled(s):
    start = time.monotonic()
    res = espota(s.ota, data2, pipelined=True)
    return res, time.monotonic() - start


def stall_gives_up(s):
    res = espota(s.ota, data2, stall_timeout=0.3)
    time.sleep(0.2)
    return res


def fault_drop_espota():
    s = fault_case("drop-espota", "drop-at=20000", lambda s: espota(s.ota, data2),
                   lambda r: r[0] == "fail")
    info = s.info()
    check("fault-drop-espota-last-update", info is not None and info["last_update"] == "Receive Failed",
          f"{info}")
    check("fault-drop-espota-retry", retry_espota(s))
    s.stop()


def fault_drop_http():
    s = fault_case("drop-http", "drop-at=20000", lambda s: http_multipart(s.http, data2),
                   lambda r: r[0] is None)
    info = s.info()
    check("fault-drop-http-last-update", info is not None and info["last_update"] == "Aborted", f"{info}")
    check("fault-drop-http-retry", retry_http(s))
    s.stop()


def fault_stall_espota():
    s = fault_case("stall-espota", "stall-at=30000:0.8", lambda s: stalled(s),
                   lambda r: r[0][0] == "ok" and r[1] >= 0.75)
    s.stop()


def fault_stall_espota_timeout():
    s = fault_case("stall-espota-timeout", "stall-at=30000:1.5", stall_gives_up,
                   lambda r: r[0] == "fail")
    time.sleep(1.5)
    check("fault-stall-espota-retry", retry_espota(s))
    s.stop()


def fault_stall_http():
    s = fault_case("stall-http", "stall-at=30000:0.8",
                   lambda s: (lambda t: (http_multipart(s.http, data2), time.monotonic() - t))(
                       time.monotonic()),
                   lambda r: r[0][0] == 200 and r[1] >= 0.75)
    s.stop()


def fault_md5_espota():
    s = fault_case("md5-espota", "md5-mismatch", lambda s: espota(s.ota, data2),
                   lambda r: r[0] == "err" and "MD5 Check Failed" in r[1])
    info = s.info()
    check("fault-md5-last-update", info is not None and info["last_update"] == "MD5 Check Failed",
          f"{info}")
    check("fault-md5-espota-retry", retry_espota(s))
    s.stop()


def fault_md5_http():
    s = fault_case("md5-http", "md5-mismatch", lambda s: http_multipart(s.http, data2),
                   lambda r: r[0] == 200 and "Update error: ERROR[7]: MD5 verification failed" in r[1])
    check("fault-md5-http-retry", retry_http(s))
    s.stop()


def fault_auth_espota():
    s = fault_case("auth-espota", "auth-reject", lambda s: espota(s.ota, data2, password="s3cret"),
                   lambda r: r == ("auth", "Authentication Failed"),
                   extra=["--password-file", pwfile])
    check("fault-auth-espota-retry", retry_espota(s, password="s3cret"))
    s.stop()


def fault_auth_http():
    s = fault_case("auth-http", "auth-reject",
                   lambda s: http_multipart(s.http, data2, auth="admin:s3cret"),
                   lambda r: r[0] == 401, extra=["--password-file", pwfile])
    check("fault-auth-http-retry", retry_http(s, auth="admin:s3cret"))
    s.stop()


def fault_noconnect():
    s = fault_case("noconnect", "no-connect-back",
                   lambda s: espota(s.ota, data2, connect_timeout=1.5),
                   lambda r: r[0] == "noconnect")
    check("fault-noconnect-retry", retry_espota(s))
    s.stop()


def fault_begin_esp32():
    s = fault_case("begin-esp32", "begin-error",
                   lambda s: espota(s.ota, data2, connect_timeout=1.5),
                   lambda r: r[0] == "noconnect")  # ESP32: OK, then silence, as the real one
    info = s.info()
    check("fault-begin-esp32-last-update", info is not None
          and info["last_update"] == "Not Enough Space", f"{info}")
    check("fault-begin-esp32-retry", retry_espota(s))
    s.stop()


def fault_begin_esp8266():
    s = fault_case("begin-esp8266", "begin-error", lambda s: espota(s.ota, data2),
                   lambda r: r == ("err", "ERR: ERROR[4]: Not Enough Space\n"), flavor="esp8266")
    s.stop()


def fault_begin_http():
    s = fault_case("begin-http", "begin-error", lambda s: http_multipart(s.http, data2),
                   lambda r: r[0] == 200 and "Update error: ERROR[4]: Not Enough Space" in r[1])
    check("fault-begin-http-retry", retry_http(s))
    s.stop()


def group_esp8266_flavor():
    # -- ESP8266 flavour: stop-and-wait, the final OK after its one-second pauses -------------
    s = Sim("e8", flavor="esp8266").start()
    res, text = espota(s.ota, data2)
    ok = s.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid")
    check("esp8266-flavor-upload", res == "ok" and text.endswith("OK") and ok is not None,
          f"{res} {text[-40:]} {ok}")
    s.stop()


def group_esp8266_chip():
    # -- an ESP8266 device takes an Arduino .bin ---------------------------------------------
    s = Sim("ar", chip="esp8266").start()
    info = s.info()
    check("esp8266-factory", info is not None and info["chip"] == "esp8266"
          and info["version"] == "1.0.0" and info["board"] == "nodemcuv2", f"{info}")
    arpath, ardata = make_image("arduino-bin", "1.2.3")
    res, text = espota(s.ota, ardata)
    ok = s.wait_info(lambda i: i["fw_sha256"] == sha256hex(ardata) and i["running_state"] == "valid")
    check("esp8266-arduino-bin", res == "ok" and ok is not None, f"{res} {text[-60:]} {ok}")
    res, text = espota(s.ota, data2)
    check("esp8266-refuses-esp32-image", res == "err" and "ERROR[" in text, f"{res} {text}")
    s.stop()


def group_powercut():
    # -- power loss before flash operation K: exit 75, the next start boots a valid image ------
    base = Sim("pc")
    base.start()
    pc_mac = base.info()["mac"]
    base.stop()
    pristine = os.path.join(TMP, "pc-pristine")
    shutil.copytree(base.state, pristine)
    # a clean run counts the operations of one update: data, commit, boot, confirmation
    base.start()
    res, _ = espota(base.ota, data2)
    base.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid")
    time.sleep(0.2)
    counts = base.ops_so_far()
    base.stop()
    total = counts[-1] if counts else 0
    check("powercut-counted", res == "ok" and total > 10, f"{counts}")
    for k in sorted({1, 4, total // 2, total - 6, total - 4, total - 2, total}):
        if k < 1:
            continue
        shutil.rmtree(base.state)
        shutil.copytree(pristine, base.state)
        base.start(extra=["--fault", f"power-cut-at-op={k}"])
        espota(base.ota, data2)
        try:
            code = base.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        check(f"powercut-{k}-exit-75", code == 75, f"exit {code}")
        check(f"powercut-{k}-logged", f"fault: power-cut-at-op={k}" in base.output(), "")
        base.start()
        info = base.wait_info(lambda i: i["running_state"] == "valid", timeout=10)
        check(f"powercut-{k}-boots-valid", info is not None and info["version"] in ("1.0.0", "2.0.0")
              and info["mac"] == pc_mac, f"{info} {base.output()[-600:]}")
        base.stop()


def group_count():
    # -- several devices in one process --------------------------------------------------------
    multi = Sim("m", count=3)
    p = free_block([0, 1, 2, 100, 101, 102, 200, 201, 202])
    multi.args[multi.args.index("--ota-port") + 1] = str(p)
    multi.args[multi.args.index("--http-port") + 1] = str(p + 100)
    multi.args[multi.args.index("--log-port") + 1] = str(p + 200)
    multi.ota, multi.http, multi.log = p, p + 100, p + 200
    multi.start()
    infos = [multi.wait_info(lambda i: True, port=p + 100 + k) for k in range(3)]
    check("count-names", [x and x["name"] for x in infos] == ["m-1", "m-2", "m-3"], f"{infos}")
    check("count-own-macs", len({x and x["mac"] for x in infos}) == 3, "")
    res, _ = espota(p + 1, data2)
    ok = multi.wait_info(lambda i: i["version"] == "2.0.0" and i["running_state"] == "valid",
                         port=p + 101)
    other = multi.info(port=p + 100)
    check("count-independent", res == "ok" and ok is not None and other is not None
          and other["version"] == "1.0.0", f"{ok} {other}")
    multi.stop()


GROUPS = [group_powercut, group_main, group_extras, group_realistic, group_esp8266_chip, group_esp8266_flavor, group_auth, group_fault_bad_app, fault_drop_espota, fault_drop_http, fault_stall_espota, fault_stall_espota_timeout, fault_stall_http, fault_md5_espota, fault_md5_http, fault_auth_espota, fault_auth_http, fault_noconnect, fault_begin_esp32, fault_begin_esp8266, fault_begin_http, group_count]


def run_group(fn):
    started = time.monotonic()
    try:
        fn()
    except Exception as e:  # a crash in one group fails it, the others go on
        import traceback
        traceback.print_exc()
        check(fn.__name__ + "-completed", False, repr(e))
    print(f"--   {fn.__name__} took {time.monotonic() - started:.1f} s", flush=True)


with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
    list(pool.map(run_group, GROUPS))

print(f"{PASSED[0]} passed, {len(FAILED)} failed in {time.monotonic() - t0:.1f} s", flush=True)
sys.exit(1 if FAILED else 0)
