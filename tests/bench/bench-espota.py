#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-espota.py - espfleet's streaming espota against the classic stop-and-wait

usage: bench-espota.py BUILD_DIR

One simulated device in a network namespace behind a shaped link (RTT 2, 20, 50 ms at
20 Mbit/s; tc netem, or the userspace shaper tests/lan/shaper.py where the kernel has no
netem), a 1 MB image, simulator flash "fast" and "realistic". For each case espfleet
pushes with its bounded in-flight window and with --stop-and-wait (one 1460-byte chunk per
acknowledgement, what espota.py does), three runs each, median. Prints KB/s, the ratio
between the two modes and the ratio to the limit: min(link rate, simulated flash rate).
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
RTTS = [2, 20, 50]
RUNS = 3
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
    if r.returncode != 0:
        raise RuntimeError(f"push failed: {job}")
    return job["duration_s"] or wall


def main():
    for path in (CLI, SIM):
        if not os.path.exists(path):
            print(f"SKIP: {path} is not built")
            return 0
    with lan.Lan() as L:
        dev = L.add_device(shaped=True)
        rows = []
        # the device's TCP receive window as a stock ESP32 build has it (lwIP 5744 bytes),
        # and as an ESP-IDF build with CONFIG_LWIP_TCP_WND_DEFAULT=65535 has it
        cases = [(speed, 0, rtt) for speed in ["fast", "realistic"] for rtt in RTTS]
        cases += [(speed, 65535, 20) for speed in ["fast", "realistic"]]
        current = None
        for speed, window, rtt in cases:
            if current != (speed, window):
                current = (speed, window)
                L.stop_device_procs(dev)
                args = ["--name", "bench", "--chip", "esp32", "--flavor", "esp32",
                        "--state-dir", os.path.join(L.tmp, f"state-{speed}-{window}"),
                        "--flash-speed", speed, "--ota-port", "3232",
                        "--http-port", "8080", "--log-port", "2323",
                        "--boot-time", "100", "--confirm-after", "1",
                        "--flash-size", "4194304"]
                if window:
                    args += ["--tcp-window", str(window)]
                L.start_sim(dev, SIM, args, log=f"sim-{speed}-{window}")
                common.wait_info(L, dev.address, lambda i: i.get("running_state") == "valid")
            L.shape(dev, delay_ms=rtt / 2, rate="20mbit")
            results = {}
            for mode in ["streaming", "stop-and-wait"]:
                times = []
                for run in range(RUNS):
                    version = f"9.{window}.{rtt}.{run}.{mode[0]}"
                    image = os.path.join(L.tmp, f"img-{speed}-{window}-{rtt}-{mode}-{run}.bin")
                    size = esp32_image(image, IMAGE_SIZE, version)
                    opts = ["--stop-and-wait"] if mode == "stop-and-wait" else []
                    times.append(push(L, image, *opts))
                    # the device reboots into the new image and refuses updates until it
                    # has confirmed it (--confirm-after): wait for that, not a fixed time
                    info = common.wait_info(L, dev.address,
                                            lambda i, v=version: i.get("version") == v
                                            and i.get("running_state") == "valid")
                    if info is None or info.get("running_state") != "valid":
                        raise RuntimeError(f"{version} never confirmed itself: {info}")
                results[mode] = size / statistics.median(times) / 1000.0
            limit = min(LINK_RATE, flash_limit(size, speed)) / 1000.0
            rows.append((speed, window or 5744, rtt, results["streaming"],
                         results["stop-and-wait"],
                         results["streaming"] / results["stop-and-wait"],
                         results["streaming"] / limit, limit))
        print()
        print(f"espota, {IMAGE_SIZE // 1000} kB image, 20 Mbit/s link, median of {RUNS} runs "
              f"({time.strftime('%Y-%m-%d')}, {os.uname().machine}, {os.cpu_count()} cores, "
              f"link shaped by {'tc netem' if dev.shaper is None else 'shaper.py'})")
        print(f"{'flash':<10} {'window':>7} {'RTT':>5} {'streaming':>11} {'stop&wait':>11} "
              f"{'ratio':>7} {'of limit':>9} {'limit':>10}")
        for speed, window, rtt, s, w, ratio, of_limit, limit in rows:
            print(f"{speed:<10} {window:>7} {rtt:>3}ms {s:>8.0f}kB/s {w:>8.0f}kB/s "
                  f"{ratio:>6.1f}x {of_limit * 100:>8.0f}% {limit:>7.0f}kB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
