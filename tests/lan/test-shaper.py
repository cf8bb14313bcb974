#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-shaper.py - the userspace link shaper gives the delay, rate and loss it is asked for

usage: test-shaper.py

One device added with shaped=True; the shaper (shaper.py) is used even where the kernel has
netem. Probes are small Python programs (this script again, with --role) in the device and
the lan namespaces:
- RTT of a UDP echo at 2, 20 and 50 ms configured, changed with shape() on the same link:
  median within 2 ms of the configured value;
- goodput of a TCP bulk transfer at 20 Mbit/s, each direction alone: 18-21 Mbit/s;
- both directions at once: each at least 16 Mbit/s (TCP's own two-way dynamics, see below);
- both directions flooded with UDP at 25 Mbit/s: 19.8-20.05 Mbit/s on the wire each way;
- in all of these the shaper keeps up: at most 1 % of its frames leave more than 1 ms after
  their time; its CPU use is printed;
- 1 % loss over 5000 UDP datagrams: 0.5-1.5 % lost, and those are the frames the shaper
  counts as dropped;
- mDNS: a query from the device for the lan's host name reaches avahi-daemon through the
  shaper and avahi's multicast answer comes back;
- a device added unshaped gets the shaper at its first shape(), unless something runs in it.
"""

import argparse
import json
import os
import socket
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SELF = os.path.abspath(__file__)
sys.path.insert(0, HERE)

ECHO_PORT = 7007
TCP_PORT = 7010
UDP_PORT = 7020
MDNS_GROUP = "224.0.0.251"


# -- probes, each run in one namespace as "test-shaper.py --role NAME ..." --------------------

def role_echo_server(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def role_echo_client(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    rtts = []
    lost = 0
    for i in range(a.count):
        payload = struct.pack("!I", i) + bytes(28)
        t0 = time.perf_counter()
        s.sendto(payload, (a.to, a.port))
        try:
            while True:
                data, _ = s.recvfrom(2048)
                if data[:4] == payload[:4]:
                    break
            rtts.append((time.perf_counter() - t0) * 1e3)
        except socket.timeout:
            lost += 1
        time.sleep(a.interval)
    print(json.dumps({"rtts_ms": rtts, "lost": lost}))


def role_tcp_sink(a):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.bind, a.port))
    srv.listen(1)
    conn, _ = srv.accept()
    total = 0
    series = []  # (seconds since the first byte, bytes so far), every read
    first = None
    while True:
        data = conn.recv(262144)
        if not data:
            break
        now = time.monotonic()
        if first is None:
            first = now
        total += len(data)
        series.append((now - first, total))
    with open(a.out + ".new", "w") as f:
        json.dump({"bytes": total, "series": series}, f)
    os.rename(a.out + ".new", a.out)


def role_tcp_source(a):
    deadline = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection((a.to, a.port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    s.settimeout(None)
    block = bytes(65536)
    sent = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        sent += s.send(block)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the sink closes once it has everything
    s.close()
    print(json.dumps({"sent": sent}))


def role_udp_sink(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.bind, a.port))
    s.settimeout(a.idle)
    seen = set()
    try:
        while True:
            data, _ = s.recvfrom(2048)
            seen.add(struct.unpack("!I", data[:4])[0])
    except socket.timeout:
        pass
    with open(a.out + ".new", "w") as f:
        json.dump({"received": len(seen)}, f)
    os.rename(a.out + ".new", a.out)


def role_udp_source(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    for i in range(a.count):
        s.sendto(struct.pack("!I", i) + bytes(96), (a.to, a.port))
        # 10 datagrams every 2 ms: 5000 in a second, far below the link rate, no queue
        if i % 10 == 9:
            target = start + (i + 1) / 10 * 0.002
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    print(json.dumps({"sent": a.count}))


def role_udp_flood(a):
    """1400-byte datagrams at --mbit for --seconds, paced in bursts of ten."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    payload = bytes(1396)
    per_burst = 10 * (1400 + 28 + 14) * 8 / (a.mbit * 1e6)
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < a.seconds:
        for _ in range(10):
            try:
                s.sendto(struct.pack("!I", i) + payload, (a.to, a.port))
            except OSError:
                pass
            i += 1
        delay = start + (i // 10) * per_burst - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(json.dumps({"sent": i}))


def dns_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def role_mdns_query(a):
    """Ask the group for NAME's A record from port 5353 (so the answer is multicast too)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", 5353))
    mreq = socket.inet_aton(MDNS_GROUP) + socket.inet_aton(a.bind)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(a.bind))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    qname = dns_name(a.name)
    query = struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    answer = None
    deadline = time.monotonic() + a.timeout
    next_send = 0.0
    while answer is None and time.monotonic() < deadline:
        if time.monotonic() >= next_send:
            s.sendto(query, (MDNS_GROUP, 5353))
            next_send = time.monotonic() + 1.0
        s.settimeout(0.2)
        try:
            data, peer = s.recvfrom(9000)
        except socket.timeout:
            continue
        flags, _, ancount = struct.unpack("!HHH", data[2:8])
        if not flags & 0x8000 or ancount == 0:
            continue
        # an answer to us: our name as the first record's owner, type A, class IN
        at = 12
        if data[at:at + len(qname)].lower() == qname.lower():
            at += len(qname)
            rtype, rclass, _, rdlen = struct.unpack("!HHIH", data[at:at + 10])
            if rtype == 1 and rclass & 0x7FFF == 1 and rdlen == 4:
                answer = {"address": socket.inet_ntoa(data[at + 10:at + 14]), "from": peer[0],
                          "to_group": True}
    print(json.dumps({"answer": answer}))


ROLES = {"echo-server": role_echo_server, "echo-client": role_echo_client,
         "tcp-sink": role_tcp_sink, "tcp-source": role_tcp_source, "udp-sink": role_udp_sink,
         "udp-source": role_udp_source, "udp-flood": role_udp_flood,
         "mdns-query": role_mdns_query}


def role_main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=sorted(ROLES), required=True)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--to")
    ap.add_argument("--port", type=int)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--mbit", type=float, default=25.0)
    ap.add_argument("--idle", type=float, default=3.0)
    ap.add_argument("--out")
    ap.add_argument("--name")
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    ROLES[a.role](a)


# -- the test --------------------------------------------------------------------------

def in_ns(ns, role, *args, timeout=120):
    """Run a probe to completion in namespace ns; its JSON output."""
    import subprocess
    r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, SELF, "--role", role, *args],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{role} in {ns} failed: {r.stderr[-1000:]}")
    return json.loads(r.stdout)


def wait_file(path, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        if proc.poll() is not None and not os.path.exists(path):
            break
        time.sleep(0.1)
    raise RuntimeError(f"{path} never appeared")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def goodput_mbit(result, skip_s=1.0):
    """Steady-state goodput: bytes after the first skip_s seconds (slow start) to the end."""
    series = result["series"]
    start = next((p for p in series if p[0] >= skip_s), None)
    end = series[-1]
    if start is None or end[0] - start[0] < 1.0:
        return 0.0
    return (end[1] - start[1]) * 8 / (end[0] - start[0]) / 1e6


def report_shaper(c, label, before, after, mid0, mid1, cpu, seconds):
    """Print what the shaper did; check that it kept up. Returns Mbit/s on the wire."""
    late, frames = late_fraction(before, after)
    wire = {k: (mid1[k]["tx_bytes"] - mid0[k]["tx_bytes"]) * 8 / seconds / 1e6 for k in mid1}
    hist = {k.split(":")[0]: v["late_over_ms"] for k, v in after.items()}
    print(f"  shaper during {label}: {cpu:.1f} % of one core, {frames} frames, "
          f"{late * 100:.3f} % over 1 ms late (max "
          f"{max(d['late_max_ms'] for d in after.values())} ms), on the wire "
          + ", ".join(f"{k.split(':')[0]}->: {w:.2f} Mbit/s" for k, w in wire.items())
          + f"; late histogram (frames later than N ms, since start) {hist}", flush=True)
    c.check(f"keeps-up {label}", late <= 0.01, f"{late * 100:.2f} % of frames over 1 ms late")
    return wire


def late_fraction(before, after):
    late = sent = 0
    for name in after:
        late += after[name]["late_over_1ms"] - before[name]["late_over_1ms"]
        sent += after[name]["tx"] - before[name]["tx"]
    return late / max(sent, 1), sent


def main():
    import common
    import lan

    c = common.Checks()
    # this test is about shaper.py: use it even where netem exists
    os.environ[lan.SHAPER_ENV] = "userspace"
    with lan.Lan(keep_logs=os.environ.get("FLEET_LAN_LOGS")) as L:
        dev = L.add_device(shaped=True)
        app = f"{lan.NET_PREFIX}.0.1"
        c.check("shaper-running", dev.shaper is not None and dev.shaper.poll() is None,
                L.log(f"shaper-{dev.index}"))
        L.spawn_in(dev.ns, [sys.executable, SELF, "--role", "echo-server", "--bind", dev.address,
                            "--port", str(ECHO_PORT)], log="echo-server")
        time.sleep(0.3)

        # RTT, the parameters changed on the running link
        for rtt in [20, 2, 50]:
            L.shape(dev, delay_ms=rtt / 2, rate="20mbit")
            r = in_ns(L.lan_ns, "echo-client", "--to", dev.address, "--port", str(ECHO_PORT),
                      "--count", "60", "--interval", "0.01")
            med = statistics.median(r["rtts_ms"]) if r["rtts_ms"] else float("inf")
            print(f"RTT configured {rtt} ms: median {med:.2f} ms, min "
                  f"{min(r['rtts_ms'], default=0):.2f}, max {max(r['rtts_ms'], default=0):.2f},"
                  f" {r['lost']} lost", flush=True)
            c.check(f"rtt-{rtt}ms", abs(med - rtt) <= 2.0 and r["lost"] == 0,
                    f"median {med:.2f} ms, {r['lost']} lost")

        # TCP goodput at 20 Mbit/s, 20 ms RTT: each direction alone, then both at once
        L.shape(dev, delay_ms=10, rate="20mbit")
        port = TCP_PORT
        results = {}
        # direction: (source namespace, sink namespace, sink address)
        ends = {"down": (L.lan_ns, dev.ns, dev.address), "up": (dev.ns, L.lan_ns, app)}
        for label, flows in [("down", ["down"]), ("up", ["up"]), ("both", ["down", "up"])]:
            sinks = []
            for name in flows:
                port += 1
                src_ns, sink_ns, sink_addr = ends[name]
                out = os.path.join(L.tmp, f"tcp-{label}-{name}.json")
                p = L.spawn_in(sink_ns, [sys.executable, SELF, "--role", "tcp-sink", "--bind",
                                         sink_addr, "--port", str(port), "--out", out],
                               log=f"tcp-sink-{label}-{name}")
                sinks.append((name, src_ns, sink_addr, port, out, p))
            time.sleep(0.3)
            before = L.shaper_request(dev, {"stats": True})["stats"]
            sources = [L.spawn_in(src_ns, [sys.executable, SELF, "--role", "tcp-source", "--to",
                                           addr, "--port", str(prt), "--seconds", "8"],
                                  log=f"tcp-source-{label}-{name}")
                       for name, src_ns, addr, prt, _, _ in sinks]
            # the middle of the transfer, past slow start: how busy the wire and the shaper are
            time.sleep(2)
            mid0 = L.shaper_request(dev, {"stats": True})["stats"]
            cpu0, t0 = cpu_seconds(dev.shaper.pid), time.monotonic()
            time.sleep(4)
            mid1 = L.shaper_request(dev, {"stats": True})["stats"]
            cpu1, t1 = cpu_seconds(dev.shaper.pid), time.monotonic()
            for name, _, _, _, out, p in sinks:
                results[(label, name)] = wait_file(out, p, 60)
            for s in sources:
                s.wait(timeout=30)
            after = L.shaper_request(dev, {"stats": True})["stats"]
            late, frames = late_fraction(before, after)
            cpu = (cpu1 - cpu0) / (t1 - t0) * 100
            # alone a flow gets 1448 of every 1514 bytes: 19.1 Mbit/s. Both ways at once each
            # wire also carries the other flow's ACKs (66 bytes per 2 segments): 18.7 at most,
            # and the ACKs queued behind data make BBR (the default here) and CUBIC leave the
            # wire idle now and then (17.5-18.7 measured with the shaper on time and no drops),
            # so that case is bounded loosely; the UDP flood below shows the shaper's capacity
            low = 18.0 if label != "both" else 16.0
            for name, *_ in sinks:
                rate = goodput_mbit(results[(label, name)])
                way = "lan -> device" if name == "down" else "device -> lan"
                print(f"TCP {label}, {way}: goodput {rate:.2f} Mbit/s", flush=True)
                c.check(f"tcp-{label}-{name}", low <= rate <= 21.0, f"{rate:.2f} Mbit/s")
            report_shaper(c, f"TCP {label}", before, after, mid0, mid1, cpu, t1 - t0)

        # both directions flooded with UDP at 25 Mbit/s: the wire must carry exactly 20 each
        # way (the rest overflows the queue), every frame on time
        before = L.shaper_request(dev, {"stats": True})["stats"]
        floods = []
        for name in ["down", "up"]:
            _, dst_ns, dst = ends[name]
            out = os.path.join(L.tmp, f"flood-{name}.json")
            sink = L.spawn_in(dst_ns, [sys.executable, SELF, "--role", "udp-sink", "--bind", dst,
                                       "--port", str(UDP_PORT + 1), "--out", out, "--idle",
                                       "2"], log=f"flood-sink-{name}")
            floods.append((sink, out))
        time.sleep(0.3)
        sources = [L.spawn_in(ends[name][0], [sys.executable, SELF, "--role", "udp-flood",
                                              "--to", ends[name][2], "--port", str(UDP_PORT + 1),
                                              "--mbit", "25", "--seconds", "7"],
                              log=f"flood-source-{name}")
                   for name in ["down", "up"]]
        time.sleep(2.5)
        mid0 = L.shaper_request(dev, {"stats": True})["stats"]
        cpu0, t0 = cpu_seconds(dev.shaper.pid), time.monotonic()
        time.sleep(4)
        mid1 = L.shaper_request(dev, {"stats": True})["stats"]
        cpu1, t1 = cpu_seconds(dev.shaper.pid), time.monotonic()
        for s in sources:
            s.wait(timeout=30)
        for sink, out in floods:
            wait_file(out, sink, 30)
        after = L.shaper_request(dev, {"stats": True})["stats"]
        cpu = (cpu1 - cpu0) / (t1 - t0) * 100
        wire = report_shaper(c, "UDP flood both ways", before, after, mid0, mid1, cpu,
                             t1 - t0)
        c.check("flood-wire-full", all(19.8 <= w <= 20.05 for w in wire.values()), f"{wire}")
        c.check("flood-overflows", all(after[k]["overflow"] > before[k]["overflow"]
                                       for k in after), f"{after}")

        # 1 % loss, lan -> device
        L.shape(dev, delay_ms=10, rate="20mbit", loss="1%", seed=12345)
        out = os.path.join(L.tmp, "udp-sink.json")
        before = L.shaper_request(dev, {"stats": True})["stats"]
        p = L.spawn_in(dev.ns, [sys.executable, SELF, "--role", "udp-sink", "--bind",
                                dev.address, "--port", str(UDP_PORT), "--out", out,
                                "--idle", "3"], log="udp-sink")
        time.sleep(0.3)
        in_ns(L.lan_ns, "udp-source", "--to", dev.address, "--port", str(UDP_PORT), "--count",
              "5000")
        got = wait_file(out, p, 30)["received"]
        after = L.shaper_request(dev, {"stats": True})["stats"]
        down = next(k for k in after if k.startswith(L.lan_ns))
        dropped = after[down]["lost"] - before[down]["lost"]
        # frames other than ours (ARP, mDNS) may cross in the meantime and be dropped too
        others = after[down]["rx"] - before[down]["rx"] - 5000
        lost = 5000 - got
        print(f"loss 1 %: {lost} of 5000 UDP datagrams lost ({lost / 50:.2f} %), the shaper "
              f"dropped {dropped} frames", flush=True)
        c.check("loss-rate", 25 <= lost <= 75, f"{lost} lost")
        c.check("loss-counted", others >= 0 and lost <= dropped <= lost + others,
                f"{lost} lost, shaper dropped {dropped} of 5000 + {others} frames")

        # mDNS both ways through the shaper: our query out, avahi's multicast answer back
        L.shape(dev, delay_ms=10, rate="20mbit")
        r = in_ns(dev.ns, "mdns-query", "--bind", dev.address, "--name",
                  "espfleet-test-host.local", "--timeout", "10", timeout=30)
        ans = r["answer"]
        print(f"mDNS: {ans}", flush=True)
        c.check("mdns", ans is not None and ans["address"] == app, f"{r}")

        # a device added unshaped gets the shaper at its first shape(), as long as nothing
        # runs in it yet; with a program running there shape() refuses (eth0 would be replaced)
        late = L.add_device()
        L.shape(late, delay_ms=5)
        L.spawn_in(late.ns, [sys.executable, SELF, "--role", "echo-server", "--bind",
                             late.address, "--port", str(ECHO_PORT)], log="echo-server-late")
        time.sleep(0.3)
        r = in_ns(L.lan_ns, "echo-client", "--to", late.address, "--port", str(ECHO_PORT),
                  "--count", "30", "--interval", "0.01")
        med = statistics.median(r["rtts_ms"]) if r["rtts_ms"] else float("inf")
        print(f"late shape(), RTT configured 10 ms: median {med:.2f} ms", flush=True)
        c.check("late-shape", late.shaper is not None and abs(med - 10) <= 2.0, f"{med:.2f} ms")
        busy = L.add_device()
        busy.procs.append(L.spawn_in(busy.ns, ["sleep", "60"], log="busy"))
        try:
            L.shape(busy, delay_ms=5)
            refused = False
        except RuntimeError:
            refused = True
        c.check("shape-refuses-running-device", refused)

        # a bad parameter is refused and the link keeps its old ones
        try:
            L.shaper_request(dev, {"rate": "fast"})
            refused = False
        except RuntimeError:
            refused = True
        c.check("bad-parameter-refused", refused)
        c.check("shaper-still-running", dev.shaper.poll() is None)
    c.finish()


if __name__ == "__main__":
    if "--role" in sys.argv:
        role_main()
    else:
        main()
