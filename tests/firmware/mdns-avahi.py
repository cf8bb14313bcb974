#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mdns-avahi.py - the responder's packets against a real avahi-daemon, in a private netns

Needs root, unshare, ip and avahi-daemon; otherwise it reports SKIP (exit 77) with the
reason. Everything runs in namespaces made for this test: a new network and mount namespace
for avahi-daemon with one end of a veth pair (v0, 198.18.0.1), and a second network
namespace for the device with the other end (v1, 198.18.0.2). avahi-daemon runs without
D-Bus, with its runtime directory on a private tmpfs; it never sees a real interface and
never runs in the root network namespace.

The core runs in mdns-dump (fake clock, no sockets); this script carries its packets over
v1 and carries what arrives on v1 back into it. Checks:
  1. avahi resolves the core's host name through its own query (simple protocol socket):
     avahi's query parsed by the core, the core's answer parsed and cached by avahi;
  2. after the announcements, avahi's cache (SIGUSR1 dump) holds PTR, SRV, TXT and A;
  3. avahi logged no parse error for any packet.

  mdns-avahi.py MDNS_DUMP
"""

import ctypes
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HOST = "esp32-a0b1c2d3e4f5"
DEVICE_IP = "198.18.0.2"
AVAHI_IP = "198.18.0.1"
GROUP = "224.0.0.251"
IP_MULTICAST_ALL = 49  # linux/in.h; not exported by the socket module
CLONE_NEWNET = 0x40000000
DEVICE_NETNS = "mdnsdev"

AVAHI_CONF = """[server]
host-name=avahi-under-test
use-ipv4=yes
use-ipv6=no
allow-interfaces=v0
enable-dbus=no
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
disable-publishing=yes
[reflector]
enable-reflector=no
"""

FAILURES = []
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def skip(reason):
    print("SKIP:", reason)
    sys.exit(77)


def run(*args):
    subprocess.run(args, check=True, timeout=30)


class Dump:
    """mdns-dump driven line by line; 'sync' marks the end of each command's output"""

    def __init__(self, path):
        self.p = subprocess.Popen([path, "--ip", DEVICE_IP], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)
        self.now = time.monotonic()

    def cmd(self, line):
        self.p.stdin.write(line + "\nsync\n")
        self.p.stdin.flush()
        sent = []
        while True:
            out = self.p.stdout.readline()
            if not out:
                raise SystemExit("mdns-dump exited")
            parts = out.split()
            if parts[0] == "ok":
                return sent
            if parts[0] == "sent":
                sent.append((parts[1], int(parts[2]), bytes.fromhex(parts[4])))

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


class Link:
    """the device's side of the veth pair: multicast out of v1, what arrives on v1 in"""

    def __init__(self):
        # a socket stays in the namespace it was made in: make it in the device's one
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        dev = os.open("/run/netns/" + DEVICE_NETNS, os.O_RDONLY)
        try:
            if libc.setns(dev, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns to the device namespace")
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
            finally:
                if libc.setns(home, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(dev)
            os.close(home)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("0.0.0.0", 5353))
        # only the groups this socket joins, and only on v1
        s.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(GROUP) + socket.inet_aton(DEVICE_IP))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(DEVICE_IP))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        self.s = s
        self.received = []

    def send(self, packets, forward=True):
        for ip, port, data in packets:
            if forward:
                self.s.sendto(data, (ip, port))

    def close(self):
        self.s.close()


def pump(dump, link, seconds, forward=True):
    """real time drives the fake clock; packets flow both ways"""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([link.s], [], [], min(left, 0.01))
        if r:
            data, (ip, port) = link.s.recvfrom(9000)
            if ip != DEVICE_IP:
                link.received.append(data)
                link.send(dump.cmd("packet %s %d %s" % (ip, port, data.hex())), forward)
        now = time.monotonic()
        ms = int((now - dump.now) * 1000)
        if ms > 0:
            dump.now += ms / 1000.0
            link.send(dump.cmd("advance %d" % ms), forward)


def simple_protocol(sock_path, request, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(request.encode() + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(1024)
        if not chunk:
            break
        reply += chunk
    s.close()
    return reply.decode(errors="replace").strip()


def inner(dump_path, outer_netns):
    # refuse to go on unless this really is a fresh network namespace
    if os.stat("/proc/self/ns/net").st_ino == outer_netns:
        raise SystemExit("not in a private network namespace; refusing to start avahi-daemon")
    # netlink, not /sys (which still shows the namespace it was mounted in)
    out = subprocess.run(["ip", "-o", "link", "show"], check=True, capture_output=True,
                         text=True, timeout=30).stdout
    links = [line.split(":")[1].strip() for line in out.splitlines()]
    if links != ["lo"]:
        raise SystemExit("unexpected interfaces in the new namespace: %r" % links)

    run("mount", "--make-rprivate", "/")
    run("mount", "-t", "tmpfs", "tmpfs", "/run")
    os.makedirs("/run/avahi-daemon")
    run("ip", "link", "set", "lo", "up")
    run("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    run("ip", "addr", "add", AVAHI_IP + "/24", "dev", "v0")
    run("ip", "link", "set", "v0", "up")
    # the device gets a namespace of its own, so that its address is not one of avahi's
    run("ip", "netns", "add", DEVICE_NETNS)
    run("ip", "link", "set", "v1", "netns", DEVICE_NETNS)
    run("ip", "-n", DEVICE_NETNS, "link", "set", "lo", "up")
    run("ip", "-n", DEVICE_NETNS, "addr", "add", DEVICE_IP + "/24", "dev", "v1")
    run("ip", "-n", DEVICE_NETNS, "link", "set", "v1", "up")

    work = tempfile.mkdtemp(prefix="mdns-avahi-")
    conf_path = os.path.join(work, "avahi-daemon.conf")
    log_path = os.path.join(work, "avahi.log")
    with open(conf_path, "w") as f:
        f.write(AVAHI_CONF)
    log = open(log_path, "w")
    avahi = subprocess.Popen(["avahi-daemon", "-f", conf_path, "--no-drop-root", "--no-chroot",
                              "--debug"], stdout=log, stderr=subprocess.STDOUT)
    dump = link = None
    try:
        deadline = time.monotonic() + 20
        while "Server startup complete" not in open(log_path).read():
            if avahi.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("avahi-daemon did not start:\n" + open(log_path).read())
            time.sleep(0.05)

        dump = Dump(dump_path)
        link = Link()
        # probes and announcements are NOT carried: avahi's cache stays empty
        dump.cmd("start")
        pump(dump, link, 2.5, forward=False)
        link.received.clear()

        # 1. avahi asks, the core answers
        reply = []

        def ask():
            reply.append(simple_protocol("/run/avahi-daemon/socket",
                                         "RESOLVE-HOSTNAME-IPV4 %s.local" % HOST))

        t = threading.Thread(target=ask)
        t.start()
        pump(dump, link, 3.0)
        t.join(timeout=10)
        check(reply and reply[0].startswith("+") and reply[0].endswith(DEVICE_IP),
              "avahi resolved the host name through the core: %r" % reply)
        check(any(len(d) >= 12 and not d[2] & 0x80 for d in link.received),
              "avahi's query reached the core")

        # 2. a new firmware version is announced: avahi caches the service records
        link.send(dump.cmd("version 1.2.4"))
        pump(dump, link, 2.5)
        avahi.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        text = open(log_path).read()
        cache = text[text.rfind(";;; INTERFACE v0.IPv4 ;;;"):]
        # avahi_record_to_string(): "name<TAB>IN<TAB>TYPE rdata ; ttl=N"
        for want in ("_arduino._tcp.local\tIN\tPTR %s._arduino._tcp.local ; ttl=4500" % HOST,
                     "_services._dns-sd._udp.local\tIN\tPTR _arduino._tcp.local ; ttl=4500",
                     "%s._arduino._tcp.local\tIN\tSRV 0 0 3232 %s.local ; ttl=120"
                     % (HOST, HOST),
                     "%s.local\tIN\tA %s ; ttl=120" % (HOST, DEVICE_IP),
                     '"fw_version=1.2.4"', '"board=esp32dev"', '"auth_upload=yes"',
                     '"mac=a0:b1:c2:d3:e4:f5"', '"http_update=/update"'):
            check(want in cache, "avahi cache holds %r" % want)

        # 3. goodbye: avahi drops the records (RFC 6762 §10.1: after one second)
        link.send(dump.cmd("stop"))
        time.sleep(2.0)
        reply = simple_protocol("/run/avahi-daemon/socket",
                                "RESOLVE-HOSTNAME-IPV4 %s.local" % HOST, timeout=15)
        check(reply.startswith("-"), "after the goodbye avahi no longer knows the host: %r"
              % reply)

        if FAILURES or os.environ.get("MDNS_AVAHI_DEBUG"):
            # where packets went missing, for the log
            for ns in ([], ["-n", DEVICE_NETNS]):
                print(subprocess.run(["ip"] + ns + ["-s", "link"], capture_output=True,
                                     text=True, check=False).stdout, file=sys.stderr)
            print(open("/proc/net/snmp").read(), file=sys.stderr)
        text = open(log_path).read()
        # avahi's words for packets it cannot parse ("from invalid interface" is only
        # its own query seen again on v1, which it does not serve)
        for bad in ("Received invalid packet", "Invalid response packet", "Invalid query packet",
                    "Invalid legacy unicast", "Packet too short", "invalid source port"):
            check(bad not in text, "avahi complained: %r" % bad)
    finally:
        if link:
            link.close()
        if dump:
            dump.close()
        avahi.terminate()
        try:
            avahi.wait(timeout=10)
        except subprocess.TimeoutExpired:
            avahi.kill()
            avahi.wait()
        log.close()
        subprocess.run(["ip", "netns", "delete", DEVICE_NETNS], check=False, timeout=30)
        if FAILURES:
            print(open(log_path).read(), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    failed = len(FAILURES)
    print("%d passed, %d failed" % (CHECKS - failed, failed))
    return 1 if failed else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--inner":
        return inner(sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    if os.geteuid() != 0:
        skip("needs root for a private network namespace")
    for tool in ("unshare", "ip", "avahi-daemon"):
        if shutil.which(tool) is None:
            skip("%s is not installed" % tool)
    if subprocess.run(["unshare", "--net", "--mount", "--", "true"], check=False,
                      stderr=subprocess.DEVNULL).returncode != 0:
        skip("unshare --net does not work here (no CAP_SYS_ADMIN?)")
    res = subprocess.run(["unshare", "--net", "--mount", "--fork", "--", sys.executable,
                          os.path.abspath(__file__), "--inner", os.path.abspath(sys.argv[1]),
                          str(os.stat("/proc/self/ns/net").st_ino)],
                         timeout=120, check=False)
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())
