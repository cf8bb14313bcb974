#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""shaper.py - a userspace link emulator between two TAP devices (for kernels without netem)

usage: shaper.py --tap NS:IFNAME --tap NS:IFNAME [--delay-ms D] [--rate RATE] [--loss LOSS]
                 [--seed N] [--limit PACKETS] [--control SOCKET] [--sched fifo|nice|normal]

Every Ethernet frame one TAP hands over is written to the other one, broadcast and multicast
included, after the same treatment netem gives it on each end of a link: random loss, then
serialisation at RATE (frame by frame, the link is busy len*8/RATE seconds per frame), then a
fixed one-way delay of D ms. The two directions are independent, each with these parameters,
so the round trip is 2*D plus the serialisation times. At most PACKETS frames wait per
direction (netem's default limit, 1000); more are dropped like a full qdisc drops them.

NS is a name under /run/netns (or a path to a namespace file, or "-" for the current one).
The TAPs should already exist ("ip -n NS tuntap add dev IFNAME mode tap"), so that they keep
their addresses, routes and ifindex while the shaper restarts; a missing one is created and
goes away with the shaper. The shaper enters each namespace with setns(2) only to open
/dev/net/tun there; a tun file descriptor stays bound to the namespace it was opened in.

RATE and LOSS take tc's spelling ("20mbit", "2.5MBps" in bytes, "1%" or "0.01"). With
--control the shaper answers on a unix stream socket, one JSON object per line:
    {"delay_ms": 10, "rate": "20mbit", "loss": "1%", "seed": 1}  -> {"ok": true}
    {"stats": true}                                             -> {"ok": true, "stats": ...}
New parameters apply to frames that arrive from then on. The socket exists once both TAPs
are attached, so its appearance means "the link is up". SIGTERM prints the counters and exits.

Python standard library only: at 20 Mbit/s a direction carries about 1700 full frames per
second, which this loop moves with a few percent of one core (test-shaper.py measures it).
What matters more is waking up on time, hence SCHED_FIFO by default (see set_scheduling).
"""

import argparse
import collections
import ctypes
import fcntl
import gc
import json
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
FRAME_MAX = 65536
READ_BATCH = 64
LATE_BUCKETS = (0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008)

_RATE_UNITS = {
    "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
    "kibit": 1024, "mibit": 1024 ** 2, "gibit": 1024 ** 3, "tibit": 1024 ** 4,
    "bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9, "tbps": 8e12,
    "kibps": 8 * 1024, "mibps": 8 * 1024 ** 2, "gibps": 8 * 1024 ** 3, "tibps": 8 * 1024 ** 4,
}


def parse_rate(text):
    """tc's rate syntax -> bits per second; None/""/0 means unlimited (returns None)."""
    if text is None or text == "" or text == 0:
        return None
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m:
        raise ValueError(f"bad rate {text!r}")
    unit = m.group(2).lower() or "bit"
    if unit not in _RATE_UNITS:
        raise ValueError(f"bad rate unit in {text!r}")
    value = float(m.group(1)) * _RATE_UNITS[unit]
    if value <= 0:
        return None
    return value


def parse_loss(text):
    """"1%" or 0.01 -> probability 0.01; None/"" means no loss."""
    if text is None or text == "":
        return 0.0
    if isinstance(text, (int, float)):
        p = float(text)
    else:
        s = str(text).strip()
        p = float(s[:-1]) / 100.0 if s.endswith("%") else float(s)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"loss {text!r} is not between 0 and 100 %")
    return p


def parse_delay(text):
    """milliseconds as a number, or tc's "10ms"/"1.5s"/"500us" -> seconds."""
    if text is None or text == "":
        return 0.0
    if isinstance(text, (int, float)):
        value = float(text) / 1000.0
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(us|ms|s|)\s*", str(text))
        if not m:
            raise ValueError(f"bad delay {text!r}")
        scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "": 1e-3}[m.group(2)]
        value = float(m.group(1)) * scale
    if value < 0:
        raise ValueError(f"negative delay {text!r}")
    return value


_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def open_tap(ns, ifname):
    """A non-blocking fd for TAP @ifname in namespace @ns (created if it does not exist)."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if ns not in ("", "-"):
            path = ns if "/" in ns else os.path.join("/run/netns", ns)
            nsfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                setns(nsfd)
            finally:
                os.close(nsfd)
        # the tun fd belongs to the namespace current at open(), not at TUNSETIFF
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        try:
            ifr = struct.pack("16sH22x", ifname.encode(), IFF_TAP | IFF_NO_PI)
            fcntl.ioctl(fd, TUNSETIFF, ifr)
        except OSError:
            os.close(fd)
            raise
    finally:
        setns(own)
        os.close(own)
    os.set_blocking(fd, False)
    return fd


class Params:
    def __init__(self, delay_s=0.0, rate_bps=None, loss=0.0, limit=1000):
        self.delay_s = delay_s
        self.rate_bps = rate_bps
        self.loss = loss
        self.limit = limit

    def describe(self):
        rate = f"{self.rate_bps / 1e6:g} Mbit/s" if self.rate_bps else "unlimited"
        return (f"delay {self.delay_s * 1e3:g} ms, rate {rate}, loss {self.loss * 100:g} %, "
                f"limit {self.limit}")


class Direction:
    """One way of the link: frames from in_fd wait in a FIFO until their time, then go out."""

    def __init__(self, name, in_fd, out_fd, params, rng):
        self.name = name
        self.in_fd = in_fd
        self.out_fd = out_fd
        self.params = params
        self.rng = rng
        self.queue = collections.deque()  # (due time, frame)
        self.link_free = 0.0  # when the emulated wire finishes the last frame
        self.rx = 0
        self.tx = 0
        self.tx_bytes = 0
        self.lost = 0
        self.overflow = 0
        self.write_errors = 0
        self.late_max = 0.0
        self.late_over_1ms = 0
        self.late_hist = [0] * len(LATE_BUCKETS)  # frames late by more than each bucket

    def take(self, now):
        """Read whatever the TAP has (a bounded batch) and schedule it."""
        p = self.params
        for _ in range(READ_BATCH):
            try:
                frame = os.read(self.in_fd, FRAME_MAX)
            except BlockingIOError:
                return
            except OSError:
                # the TAP went down under us (link set down, namespace deleted): nothing to read
                return
            if not frame:
                return
            self.rx += 1
            if p.loss > 0.0 and self.rng.random() < p.loss:
                self.lost += 1
                continue
            if len(self.queue) >= p.limit:
                self.overflow += 1
                continue
            t = now
            if p.rate_bps:
                start = self.link_free if self.link_free > now else now
                self.link_free = start + len(frame) * 8.0 / p.rate_bps
                t = self.link_free
            self.queue.append((t + p.delay_s, frame))

    def flush(self, now):
        """Write every frame that is due; returns the next due time or None."""
        q = self.queue
        while q:
            due, frame = q[0]
            if due > now:
                return due
            q.popleft()
            late = now - due
            if late > self.late_max:
                self.late_max = late
            if late > 0.00025:
                for i, limit in enumerate(LATE_BUCKETS):
                    if late > limit:
                        self.late_hist[i] += 1
                if late > 0.001:
                    self.late_over_1ms += 1
            try:
                os.write(self.out_fd, frame)
                self.tx += 1
                self.tx_bytes += len(frame)
            except OSError:
                self.write_errors += 1
        return None

    def stats(self):
        return {"rx": self.rx, "tx": self.tx, "tx_bytes": self.tx_bytes, "lost": self.lost,
                "overflow": self.overflow, "write_errors": self.write_errors,
                "queued": len(self.queue), "late_max_ms": round(self.late_max * 1e3, 3),
                "late_over_1ms": self.late_over_1ms,
                "late_over_ms": {f"{b * 1e3:g}": n for b, n in zip(LATE_BUCKETS, self.late_hist)}}


class Control:
    """The unix socket that changes parameters and reports counters."""

    def __init__(self, path, shaper):
        self.shaper = shaper
        self.path = path
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        tmp = path + ".new"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.listener.bind(tmp)
        self.listener.listen(4)
        self.listener.setblocking(False)
        # appear under the final name only when listening, so a client never races the bind
        os.rename(tmp, path)
        self.clients = {}  # fd -> (socket, buffer)

    def fds(self):
        return [self.listener.fileno()] + list(self.clients)

    def ready(self, fd):
        if fd == self.listener.fileno():
            try:
                conn, _ = self.listener.accept()
            except BlockingIOError:
                return
            conn.setblocking(False)
            self.clients[conn.fileno()] = (conn, b"")
            return
        conn, buf = self.clients[fd]
        try:
            data = conn.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            del self.clients[fd]
            conn.close()
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            reply = self.shaper.command(line)
            try:
                conn.setblocking(True)
                conn.sendall(json.dumps(reply).encode() + b"\n")
                conn.setblocking(False)
            except OSError:
                break
        self.clients[fd] = (conn, buf)

    def close(self):
        for conn, _ in self.clients.values():
            conn.close()
        self.listener.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class Stopped(Exception):
    pass


class Shaper:
    def __init__(self, fd_a, fd_b, names, params, seed):
        self.params = params
        self.rng = random.Random(seed)
        self.dirs = [Direction(f"{names[0]}->{names[1]}", fd_a, fd_b, params, self.rng),
                     Direction(f"{names[1]}->{names[0]}", fd_b, fd_a, params, self.rng)]
        self.by_fd = {d.in_fd: d for d in self.dirs}
        self.control = None
        self.running = True
        self.started = time.monotonic()

    def command(self, line):
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("expected a JSON object")
            if req.get("stats"):
                return {"ok": True, "stats": self.stats()}
            p = Params(self.params.delay_s, self.params.rate_bps, self.params.loss,
                       self.params.limit)
            if "delay_ms" in req:
                p.delay_s = parse_delay(req["delay_ms"])
            if "rate" in req:
                p.rate_bps = parse_rate(req["rate"])
            if "loss" in req:
                p.loss = parse_loss(req["loss"])
            if "limit" in req:
                p.limit = int(req["limit"])
                if p.limit < 1:
                    raise ValueError("limit must be at least 1")
            if req.get("seed") is not None:
                self.rng.seed(req["seed"])
        except (ValueError, TypeError) as e:
            return {"ok": False, "error": str(e)}
        self.params = p
        for d in self.dirs:
            d.params = p
        print(f"shaper: {p.describe()}", flush=True)
        return {"ok": True}

    def stats(self):
        return {d.name: d.stats() for d in self.dirs}

    def run(self):
        gc.disable()  # frames are bytes without cycles; no collector pauses in the timing loop
        dirs = self.dirs
        while self.running:
            now = time.monotonic()
            nxt = None
            for d in dirs:
                due = d.flush(now)
                if due is not None and (nxt is None or due < nxt):
                    nxt = due
            fds = [d.in_fd for d in dirs]
            if self.control:
                fds += self.control.fds()
            timeout = None if nxt is None else max(0.0, nxt - time.monotonic())
            try:
                readable, _, _ = select.select(fds, [], [], timeout)
            except InterruptedError:
                continue
            now = time.monotonic()
            for fd in readable:
                d = self.by_fd.get(fd)
                if d is not None:
                    d.take(now)
                elif self.control:
                    self.control.ready(fd)

    def stop(self, *_):
        # select() restarts after a handler returns (PEP 475), so leave the loop by raising
        self.running = False
        raise Stopped()


def set_scheduling(how):
    """The scheduler lets a plain task that wakes up wait for the running one's slice, which
    is milliseconds late for a frame; a low real-time priority is woken at once (the loop
    sleeps in select(), it never spins). Falls back to nice -10, then to nothing."""
    if how == "fifo":
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            return "SCHED_FIFO 10"
        except OSError:
            how = "nice"
    if how == "nice":
        try:
            os.setpriority(os.PRIO_PROCESS, 0, -10)
            return "nice -10"
        except OSError:
            pass
    return "normal"


def endpoint(text):
    ns, sep, ifname = text.rpartition(":")
    if not sep or not ifname or len(ifname) > 15:
        raise argparse.ArgumentTypeError(f"expected NS:IFNAME, got {text!r}")
    return ns, ifname


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tap", type=endpoint, action="append", required=True,
                    help="NS:IFNAME, given twice")
    ap.add_argument("--delay-ms", default="0", help="one-way delay per direction (ms, or 500us)")
    ap.add_argument("--rate", default=None, help="per direction, tc syntax (20mbit)")
    ap.add_argument("--loss", default=None, help="per direction, 1%% or 0.01")
    ap.add_argument("--limit", type=int, default=1000, help="frames waiting per direction")
    ap.add_argument("--seed", type=int, default=None, help="loss sequence seed")
    ap.add_argument("--control", default=None, help="unix socket for new parameters")
    ap.add_argument("--sched", choices=["fifo", "nice", "normal"], default="fifo",
                    help="how to get the CPU on time (default fifo, else nice -10)")
    args = ap.parse_args(argv)
    if len(args.tap) != 2:
        ap.error("--tap must be given exactly twice")
    try:
        params = Params(parse_delay(args.delay_ms), parse_rate(args.rate),
                        parse_loss(args.loss), args.limit)
    except ValueError as e:
        ap.error(str(e))
    sched = set_scheduling(args.sched)
    fds = [open_tap(ns, ifname) for ns, ifname in args.tap]
    names = [f"{ns}:{ifname}" for ns, ifname in args.tap]
    shaper = Shaper(fds[0], fds[1], names, params, args.seed)
    signal.signal(signal.SIGTERM, shaper.stop)
    signal.signal(signal.SIGINT, shaper.stop)
    print(f"shaper: {names[0]} <-> {names[1]}, {params.describe()}, seed {args.seed}, "
          f"scheduling {sched}", flush=True)
    if args.control:
        shaper.control = Control(args.control, shaper)
    try:
        shaper.run()
    except Stopped:
        pass
    finally:
        if shaper.control:
            shaper.control.close()
        elapsed = time.monotonic() - shaper.started
        cpu = os.times()
        print(f"shaper: done after {elapsed:.1f} s, cpu {cpu.user + cpu.system:.2f} s, "
              f"{json.dumps(shaper.stats())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
