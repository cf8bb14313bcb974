#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-sim-mdns.py - espfleet-sim's mDNS on a private veth link between two namespaces

usage: test-sim-mdns.py ESPFLEET_SIM FLEET_TEST_IMAGE_GEN

Needs root and ip(8); otherwise SKIP (exit 77) with the reason. Two network namespaces are
made for this test and deleted at its end: one for the device (198.18.77.2 on veth d0) and
one for the "host" (198.18.77.1 on veth h0), where this script's own sockets live. No
packet touches a real interface. The DNS messages are read by a parser written here from
RFC 1035/6762, not by the core's.

Checks: probing then announcements carrying every TXT key with the /info values; an answer
to a PTR query; after an HTTP update a goodbye for the old TXT and announcements with the
new fw_version/fw_sha256; goodbye packets on SIGTERM; mDNS off with --bind 127.0.0.1.
"""

import ctypes
import http.client
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SIM, GEN = sys.argv[1], sys.argv[2]
GROUP = "224.0.0.251"
DEV_IP, HOST_IP = "198.18.77.2", "198.18.77.1"
CLONE_NEWNET = 0x40000000
SUFFIX = str(os.getpid())
DEV_NS, HOST_NS = "simdev" + SUFFIX, "simhost" + SUFFIX
FAILED = []
PASSED = [0]


def skip(reason):
    print("SKIP:", reason)
    sys.exit(77)


def check(name, cond, detail=""):
    if cond:
        PASSED[0] += 1
        print(f"ok   {name}", flush=True)
    else:
        FAILED.append(name)
        print(f"FAIL {name}: {detail}", flush=True)
    return cond


if os.geteuid() != 0:
    skip("needs root for network namespaces")
if shutil.which("ip") is None:
    skip("needs ip(8)")

libc = ctypes.CDLL(None, use_errno=True)


def in_ns(ns, fn):
    """runs fn with this thread in namespace ns; sockets made there stay there"""
    with open("/proc/self/ns/net") as orig, open(f"/run/netns/{ns}") as target:
        if libc.setns(target.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        try:
            return fn()
        finally:
            libc.setns(orig.fileno(), CLONE_NEWNET)


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True, timeout=20)


# ---- a DNS message reader (RFC 1035 4.1, RFC 6762 18) ----------------------------------


def read_name(pkt, off):
    labels = []
    jumped = False
    end = None
    for _ in range(128):
        n = pkt[off]
        if n & 0xC0 == 0xC0:
            ptr = ((n & 0x3F) << 8) | pkt[off + 1]
            if not jumped:
                end = off + 2
            jumped = True
            off = ptr
            continue
        if n == 0:
            return ".".join(labels), (end if jumped else off + 1)
        labels.append(pkt[off + 1:off + 1 + n].decode(errors="replace"))
        off += 1 + n
    raise ValueError("name loop")


def parse(pkt):
    ident, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", pkt[:12])
    off = 12
    questions, records = [], []
    for _ in range(qd):
        name, off = read_name(pkt, off)
        qtype, qclass = struct.unpack(">HH", pkt[off:off + 4])
        off += 4
        questions.append((name.lower(), qtype))
    for _ in range(an + ns + ar):
        name, off = read_name(pkt, off)
        rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", pkt[off:off + 10])
        off += 10
        rdata = pkt[off:off + rdlen]
        rec = {"name": name.lower(), "type": rtype, "ttl": ttl}
        if rtype == 16:
            items, k = {}, 0
            while k < len(rdata):
                s = rdata[k + 1:k + 1 + rdata[k]].decode(errors="replace")
                k += 1 + rdata[k]
                key, _, val = s.partition("=")
                items[key] = val
            rec["txt"] = items
        elif rtype == 33:
            rec["port"] = struct.unpack(">H", rdata[4:6])[0]
            rec["target"] = read_name(pkt, off + 6)[0].lower()
        elif rtype == 1:
            rec["a"] = socket.inet_ntoa(rdata)
        elif rtype == 12:
            rec["ptr"] = read_name(pkt, off)[0].lower()
        records.append(rec)
        off += rdlen
    return {"flags": flags, "questions": questions, "records": records}


class Listener:
    """a socket in the host namespace joined to 224.0.0.251 on h0"""

    def __init__(self):
        def make():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", 5353))
            mreq = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(HOST_IP))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(HOST_IP))
            return s
        self.sock = in_ns(HOST_NS, make)
        self.seen = []

    def collect(self, until, timeout):
        """reads packets from the device until until(msg) is true; returns that msg"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if not r:
                continue
            data, src = self.sock.recvfrom(9000)
            if src[0] != DEV_IP:
                continue
            try:
                msg = parse(data)
            except (ValueError, IndexError, struct.error):
                self.seen.append(("bad", data))
                continue
            msg["at"] = time.monotonic()
            self.seen.append(msg)
            if until(msg):
                return msg
        return None

    def query_ptr(self):
        q = struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 0)
        for label in ("_arduino", "_tcp", "local"):
            q += bytes([len(label)]) + label.encode()
        q += b"\x00" + struct.pack(">HH", 12, 1)
        self.sock.sendto(q, (GROUP, 5353))


def txt_of(msg):
    for r in msg["records"]:
        if r["type"] == 16 and "txt" in r:
            return r
    return None


def is_response(msg):
    return msg["flags"] & 0x8000 != 0


def http_in_host_ns(method, port, path, body=None, headers=None):
    def go():
        c = http.client.HTTPConnection(DEV_IP, port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data
    return in_ns(HOST_NS, go)


procs = []
tmp = tempfile.mkdtemp(prefix="sim-mdns-")
try:
    ip("netns", "add", DEV_NS)
    ip("netns", "add", HOST_NS)
    ip("link", "add", "d0" + SUFFIX[-6:], "type", "veth", "peer", "name", "h0" + SUFFIX[-6:])
    dev_if, host_if = "d0" + SUFFIX[-6:], "h0" + SUFFIX[-6:]
    ip("link", "set", dev_if, "netns", DEV_NS)
    ip("link", "set", host_if, "netns", HOST_NS)
    ip("-n", DEV_NS, "addr", "add", DEV_IP + "/24", "dev", dev_if)
    ip("-n", HOST_NS, "addr", "add", HOST_IP + "/24", "dev", host_if)
    for ns, ifname in ((DEV_NS, dev_if), (HOST_NS, host_if)):
        ip("-n", ns, "link", "set", ifname, "up")
        ip("-n", ns, "link", "set", "lo", "up")

    listener = Listener()
    image = os.path.join(tmp, "v2.bin")
    subprocess.run([GEN, "esp32-app", image, "--version", "2.0.0"], check=True)
    with open(image, "rb") as f:
        data2 = f.read()

    argv = ["ip", "netns", "exec", DEV_NS, SIM, "--name", "lab-7", "--bind", DEV_IP,
            "--state-dir", os.path.join(tmp, "state"), "--flash-speed", "fast",
            "--boot-time", "200", "--confirm-after", "0.5", "--http-port", "8081",
            "--ota-port", "3232", "--log-port", "2323"]
    out = open(os.path.join(tmp, "sim.log"), "w")
    sim = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    procs.append(sim)

    # probes (queries with our records in authority), then announcements
    ann = listener.collect(lambda m: is_response(m) and txt_of(m) is not None, 6)
    check("announced", ann is not None, f"{listener.seen[:3]}")
    probes = [m for m in listener.seen if isinstance(m, dict) and not is_response(m)]
    check("probed-first", len(probes) >= 3 and all(p["at"] < ann["at"] for p in probes[:3]),
          f"{len(probes)} probes")
    status, body = http_in_host_ns("GET", 8081, "/info")
    import json
    info = json.loads(body) if status == 200 else {}
    txt = txt_of(ann)["txt"] if ann else {}
    check("txt-keys", txt.get("board") == "esp32" and txt.get("auth_upload") == "no"
          and txt.get("tcp_check") == "no" and txt.get("ssh_upload") == "no"
          and txt.get("fw_version") == "1.0.0" and txt.get("http_update") == "/update"
          and txt.get("log_port") == "2323" and txt.get("chip") == "esp32"
          and txt.get("http_port") == "8081" and txt.get("mac") == info.get("mac")
          and txt.get("fw_sha256") == info.get("fw_sha256", "")[:16], f"{txt} {info}")
    srv = [r for r in ann["records"] if r["type"] == 33] if ann else []
    arec = [r for r in ann["records"] if r["type"] == 1] if ann else []
    check("srv-and-a", srv and srv[0]["port"] == 3232 and srv[0]["target"] == "lab-7.local"
          and arec and arec[0]["a"] == DEV_IP, f"{srv} {arec}")

    # a query from the host is answered (the membership is on the right interface)
    time.sleep(1.5)  # past the announcements
    listener.query_ptr()
    ans = listener.collect(lambda m: is_response(m) and any(
        r.get("ptr") == "lab-7._arduino._tcp.local" for r in m["records"]), 3)
    check("answers-ptr-query", ans is not None, "")

    # an update: goodbye for the old data, announcements of the new
    boundary = "----sim-mdns-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"firmware\"; "
            f"filename=\"v2.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
        + data2 + f"\r\n--{boundary}--\r\n".encode()
    status, resp = http_in_host_ns("POST", 8081, "/update", body,
                                   {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    check("http-update", status == 200 and b"Update Success" in resp, f"{status} {resp[:100]}")
    bye = listener.collect(lambda m: is_response(m) and txt_of(m) is not None
                           and txt_of(m)["ttl"] == 0, 3)
    check("goodbye-before-reboot", bye is not None
          and txt_of(bye)["txt"].get("fw_version") == "1.0.0", f"{bye}")
    new = listener.collect(lambda m: is_response(m) and txt_of(m) is not None
                           and txt_of(m)["ttl"] > 0
                           and txt_of(m)["txt"].get("fw_version") == "2.0.0", 6)
    check("reannounced-new-version", new is not None
          and txt_of(new)["txt"].get("fw_sha256")
          == __import__("hashlib").sha256(data2).hexdigest()[:16], f"{new}")

    # clean shutdown: goodbye
    time.sleep(1.5)
    sim.send_signal(signal.SIGTERM)
    code = sim.wait(timeout=10)
    bye = listener.collect(lambda m: is_response(m) and all(r["ttl"] == 0 for r in m["records"])
                           and txt_of(m) is not None, 3)
    check("goodbye-on-sigterm", code == 0 and bye is not None, f"exit {code}")

    # the safety rule: on loopback the responder does not start
    argv_lo = ["ip", "netns", "exec", DEV_NS, SIM, "--name", "lab-8", "--bind", "127.0.0.1",
               "--state-dir", os.path.join(tmp, "state"), "--flash-speed", "fast"]
    lo = subprocess.Popen(argv_lo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    procs.append(lo)
    time.sleep(1.0)
    lo.send_signal(signal.SIGTERM)
    text = lo.communicate(timeout=10)[0]
    check("off-on-loopback", "mDNS is off on loopback" in text and "mdns: off" in text, text[-300:])
    heard = listener.collect(lambda m: any(r["name"].startswith("lab-8") for r in m["records"]),
                             0.5)
    check("loopback-silent", heard is None, "")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in (DEV_NS, HOST_NS):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{PASSED[0]} passed, {len(FAILED)} failed", flush=True)
sys.exit(1 if FAILED else 0)
