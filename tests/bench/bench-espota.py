#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-espota.py - espfleet's streaming espota against the classic stop-and-wait

usage: bench-espota.py BUILD_DIR

One simulated device in a network namespace behind a shaped link (RTT 2, 20, 50 ms at
20 Mbit/s; tc netem, or the userspace shaper tests/lan/shaper.py where the kernel has no
netem), a 1 MB image, simulator flash "fast" and "realistic", and two device TCP receive
windows: lwIP's stock 5744 bytes and the 65535 bytes the reference firmware configures
(firmware/port/esp32/sdkconfig.defaults). For each case espfleet pushes with its bounded
in-flight window and with --stop-and-wait (one 1460-byte chunk per acknowledgement, what
espota.py does), three runs each, median.

Rates are image bytes over the transfer phase (the job's transfer_s: from the device's
connect-back to its final OK); the whole push, invitation and handshakes included, is shown
in seconds beside them. Two limits:
  - "limit": the slower of the simulated flash and what plain TCP carries over the same link
    to a receiver with the same window (tests/lan/tcp-ceiling.py, measured in this run,
    median of three): no uploader can beat it, whatever it does;
  - "nominal": the slower of the flash and the link's 20 Mbit/s, framing included.
Everything is measured side by side in one run; nothing here is a pass/fail timing test.
"""

import hashlib
import json
import os
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lan"))
import common  # noqa: E402
import lan  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
CLI = os.path.join(BUILD, "src", "cli", "espfleet-cli")
SIM = os.path.join(BUILD, "firmware", "port", "linux-sim", "espfleet-sim")
IMAGE_SIZE = 1000 * 1000
LINK_RATE = 20e6 / 8  # bytes per second
CEILING = os.path.join(HERE, "..", "lan", "tcp-ceiling.py")
RTTS = [2, 20, 50]
RUNS = 3
# the device's TCP receive window: a stock lwIP build, and the reference firmware's
WINDOWS = [5744, 65535]
# the simulator's cost model (esp-images.md §5): 64 KiB block erase 150 ms, 256-byte page 0.8 ms
FLASH_BLOCK_ERASE_S = 0.150
FLASH_PAGE_S = 0.0008


def esp32_image(path, size, version):
    """A valid ESP32 app image of about @size bytes (one big DROM segment)."""
    desc = struct.pack("<II8s32s32s16s16s32s32sHHBB2s72s", 0xABCD5432, 0, b"",
                       version.encode(), b"bench", b"12:00:00", b"Nov 21 2026", b"v5.3",
                       bytes(32), 0, 0, 0, 0, b"", b"")
    body = desc + bytes((i * 7) & 0xFF for i in range(size - len(desc) - 128))
    body += bytes((-len(body)) % 4)
    segs = [(0x3F400020, body), (0x3FFB0000, b"\x11" * 64)]
    hdr = struct.pack("<BBBBI", 0xE9, len(segs), 2, 0x20, 0x40080000)
    hdr += bytes([0xEE, 0, 0, 0]) + struct.pack("<HBHH", 0, 0, 0, 0) + bytes(4) + b"\x01"
    img = bytearray(hdr)
    cs = 0xEF
    for addr, data in segs:
        img += struct.pack("<II", addr, len(data)) + data
        for b in data:
            cs ^= b
    img += bytes((16 - (len(img) + 1) % 16) % 16) + bytes([cs])
    img += hashlib.sha256(img).digest()
    with open(path, "wb") as f:
        f.write(img)
    return len(img)


def flash_limit(size, speed):
    if speed == "fast":
        return float("inf")
    blocks = (size + 65535) // 65536
    pages = (size + 255) // 256
    return size / (blocks * FLASH_BLOCK_ERASE_S + pages * FLASH_PAGE_S)


def push(L, image, *opts):
    start = time.monotonic()
    r = L.run([CLI, "push", "--image", image, "--json", "--no-verify", "--connect-timeout", "10",
               *opts, "espota://%s:3232" % L.devices[0].address], timeout=600)
    wall = time.monotonic() - start
    try:
        job = json.loads(r.stdout)["jobs"][0]
    except (json.JSONDecodeError, KeyError, IndexError):
        raise RuntimeError(f"push failed: {r.stdout[-500:]} {r.stderr[-500:]}")
    if r.returncode != 0 or not job.get("transfer_s"):
        raise RuntimeError(f"push failed: {job}")
    return job["transfer_s"], job["duration_s"] or wall


def tcp_ceiling(L, dev, window, size):
    """Seconds plain TCP needs to carry @size bytes to a @window receiver over dev's link."""
    port = 47000 + dev.index
    recv = L.spawn_in(dev.ns, [sys.executable, CEILING, "recv", "--connect",
                               f"{lan.NET_PREFIX}.0.1:{port}", "--bind", dev.address,
                               "--size", str(size), "--window", str(window)], log="ceiling-recv")
    try:
        r = L.run([sys.executable, CEILING, "send", "--listen", f"0.0.0.0:{port}",
                   "--size", str(size)], timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"tcp-ceiling failed: {r.stdout} {r.stderr}")
        return float(r.stdout.split()[-1])
    finally:
        recv.wait(timeout=30)


def measure(L, dev, speed, window, rtt, ceilings):
    results = {}
    pushes = {}
    size = IMAGE_SIZE
    for mode in ["streaming", "stop-and-wait"]:
        transfers, durations = [], []
        for run in range(RUNS):
            version = f"9.{window}.{rtt}.{run}.{mode[0]}"
            image = os.path.join(L.tmp, f"img-{speed}-{window}-{rtt}-{mode}-{run}.bin")
            size = esp32_image(image, IMAGE_SIZE, version)
            opts = ["--stop-and-wait"] if mode == "stop-and-wait" else []
            transfer, duration = push(L, image, *opts)
            transfers.append(transfer)
            durations.append(duration)
            # the device reboots into the new image and refuses updates until it has
            # confirmed it (--confirm-after): wait for that, not a fixed time
            info = common.wait_info(L, dev.address,
                                    lambda i, v=version: i.get("version") == v
                                    and i.get("running_state") == "valid")
            if info is None or info.get("running_state") != "valid":
                raise RuntimeError(f"{version} never confirmed itself: {info}")
        results[mode] = size / statistics.median(transfers) / 1000.0
        pushes[mode] = statistics.median(durations)
    if (window, rtt) not in ceilings:
        ceilings[(window, rtt)] = size / statistics.median(
            tcp_ceiling(L, dev, window, size) for _ in range(RUNS)) / 1000.0
    tcp = ceilings[(window, rtt)]
    flash = flash_limit(size, speed) / 1000.0
    limit, bound = (flash, "flash") if flash < tcp else (tcp, "TCP")
    nominal = min(LINK_RATE / 1000.0, flash)
    return dict(speed=speed, window=window, rtt=rtt, s=results["streaming"],
                w=results["stop-and-wait"], ratio=results["streaming"] / results["stop-and-wait"],
                push=pushes["streaming"], push_w=pushes["stop-and-wait"], limit=limit,
                bound=bound, of_limit=results["streaming"] / limit, nominal=nominal,
                of_nominal=results["streaming"] / nominal)


def main():
    for path in (CLI, SIM):
        if not os.path.exists(path):
            print(f"SKIP: {path} is not built")
            return 0
    with lan.Lan() as L:
        dev = L.add_device(shaped=True)
        rows = []
        ceilings = {}
        for speed in ["fast", "realistic"]:
            for window in WINDOWS:
                L.stop_device_procs(dev)
                args = ["--name", "bench", "--chip", "esp32", "--flavor", "esp32",
                        "--state-dir", os.path.join(L.tmp, f"state-{speed}-{window}"),
                        "--flash-speed", speed, "--ota-port", "3232",
                        "--http-port", "8080", "--log-port", "2323",
                        "--boot-time", "100", "--confirm-after", "1",
                        "--flash-size", "4194304", "--tcp-window", str(window)]
                L.start_sim(dev, SIM, args, log=f"sim-{speed}-{window}")
                common.wait_info(L, dev.address, lambda i: i.get("running_state") == "valid")
                for rtt in RTTS:
                    L.shape(dev, delay_ms=rtt / 2, rate="20mbit")
                    rows.append(measure(L, dev, speed, window, rtt, ceilings))
        print()
        print(f"espota, {IMAGE_SIZE // 1000} kB image, 20 Mbit/s link, median of {RUNS} runs "
              f"({time.strftime('%Y-%m-%d')}, {os.uname().machine}, {os.cpu_count()} cores, "
              f"link shaped by {'tc netem' if dev.shaper is None else 'shaper.py'})")
        print("rates: image bytes over the transfer phase; push: the whole push, median")
        print(f"{'flash':<10} {'window':>6} {'RTT':>5} {'streaming':>11} {'stop&wait':>11} "
              f"{'ratio':>6} {'push':>13} {'limit':>16} {'of limit':>8} {'of nominal':>10}")
        for r in rows:
            print(f"{r['speed']:<10} {r['window']:>6} {r['rtt']:>3}ms {r['s']:>7.0f}kB/s "
                  f"{r['w']:>7.0f}kB/s {r['ratio']:>5.1f}x {r['push']:>5.2f}s/{r['push_w']:>5.2f}s "
                  f"{r['limit']:>6.0f}kB/s {r['bound']:<5} {r['of_limit'] * 100:>7.0f}% "
                  f"{r['of_nominal'] * 100:>9.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
