#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""ui-responsiveness.py - how late the app's main loop runs while 50 of 100 simulated
devices take a 4 MB image at once, and the app's peak memory

usage: ui-responsiveness.py BUILD_DIR            (./run bench passes build/)
       ui-responsiveness.py --app PROG --sim PROG

100 simulated devices (espfleet-sim on two loopback addresses of their own, realistic
flash timing; devices on loopback do not announce themselves, so the app is given their
addresses, as the demo fleet does) are found by the app; then 50 of them are updated with
one 4 MB ESP32 image, all 50 at once (max-parallel-jobs=50). The app runs with
ESPFLEET_LATENCY_PROBE=1: a 10 ms timer on its main loop records how late every tick
came; the maximum and the 99th percentile over the batch are read from app.latency, the
peak RSS from /proc (VmHWM). Targets: max < 50 ms, peak RSS < 150 MB.

Runs the real window under Xvfb with a private session bus and keyring, like the GUI tests;
exit 77 when those tools are missing, 1 when a target is missed or the batch fails.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, 'tests', 'ui'))
import uitest  # noqa: E402
from uitest import check, gv_str, gv_strv, log  # noqa: E402

DEVICES = 100
UPDATING = 50
IMAGE_SIZE = 4 * 1024 * 1024
TARGET_MAX_MS = 50.0
TARGET_RSS_MB = 150.0
TOTAL_TIMEOUT = 900


def esp32_app_image(size, version, project='espfleet-bench'):
    """a valid ESP-IDF application for the ESP32 of @size bytes (esp-images.md): a DROM
    segment that starts with esp_app_desc_t carries the bulk, small DRAM and IRAM segments
    follow, then the checksum and the appended SHA-256"""
    desc = bytearray(256)
    struct.pack_into('<II', desc, 0, 0xABCD5432, 0)
    desc[16:16 + len(version)] = version.encode()
    desc[48:48 + len(project)] = project.encode()
    desc[80:88] = b'12:00:00'
    desc[96:107] = b'Nov 22 2026'
    desc[112:118] = b'v5.3.1'
    desc[144:176] = hashlib.sha256(project.encode()).digest()
    desc[180] = 16
    dram_len, iram_len = 8192, 16384
    drom_len = (size - 24 - 3 * 8 - dram_len - iram_len - 16 - 32) & ~3
    # incompressible filler
    block = b''.join(hashlib.sha256(b'%d' % i).digest() for i in range(2048))
    body = (block * (drom_len // len(block) + 1))[:drom_len - len(desc)]
    segments = [(0x3F400020, bytes(desc) + body),
                (0x3FFB0000, bytes((i * 7 + 3) & 0xFF for i in range(dram_len))),
                (0x40080000, bytes((i * 13 + 5) & 0xFF for i in range(iram_len)))]
    img = bytearray([0xE9, len(segments), 0x02, 0x40])  # magic, count, DIO, 16 MB 40 MHz
    img += struct.pack('<I', 0x40080400)                  # entry
    img += bytes([0xEE, 0, 0, 0])                         # WP pin, drive settings
    img += struct.pack('<HBHH', 0, 0, 0, 0xFFFF)          # ESP32, any revision
    img += bytes(4) + bytes([1])                          # SHA-256 appended
    checksum = 0xEF
    for addr, data in segments:
        img += struct.pack('<II', addr, len(data)) + data
        n = len(data) - len(data) % 8
        acc = 0
        for (word,) in struct.iter_unpack('<Q', data[:n]):
            acc ^= word
        for k in range(8):
            checksum ^= (acc >> (8 * k)) & 0xFF
        for b in data[n:]:
            checksum ^= b
    while (len(img) + 1) % 16 != 0:
        img.append(0)
    img.append(checksum)
    img += hashlib.sha256(img).digest()
    return bytes(img)


def wait_http(urls, timeout):
    deadline = time.monotonic() + timeout
    pending = set(urls)
    while pending and time.monotonic() < deadline:
        for url in list(pending):
            try:
                urllib.request.urlopen(url, timeout=0.5).read()
                pending.discard(url)
            except OSError:
                pass
        time.sleep(0.2)
    check(not pending, '%d simulated devices never answered' % len(pending))


def peak_rss_mb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024.0
    return -1.0


def inner(args):
    work = tempfile.mkdtemp(prefix='espfleet-bench-')
    sims = []
    app = None
    try:
        # settings: 50 uploads at once, enough time for a 4 MB image at flash speed
        config = os.environ.get('XDG_CONFIG_HOME', os.path.join(work, 'config'))
        os.makedirs(os.path.join(config, 'glib-2.0', 'settings'), exist_ok=True)
        with open(os.path.join(config, 'glib-2.0', 'settings', 'keyfile'), 'w') as f:
            f.write('[io/github/espfleet/EspFleet]\nmax-parallel-jobs=%d\n'
                    'transfer-timeout=300\nverify-timeout=300\n' % UPDATING)

        net = '127.%d.%d.' % (random.randint(16, 250), random.randint(1, 250))
        groups = [('bench-up', net + '1', '16M', UPDATING),
                  ('bench-idle', net + '2', '4M', DEVICES - UPDATING)]
        simlog = open(os.path.join(work, 'sim.log'), 'wb')
        for name, address, flash, count in groups:
            sims.append(subprocess.Popen(
                [args.sim, '--name', name, '--count', str(count), '--bind', address,
                 '--flash-size', flash, '--state-dir', os.path.join(work, 'state'),
                 '--quiet'], stdout=simlog, stderr=subprocess.STDOUT))
        wait_http(['http://%s:%d/info' % (address, 8080 + i)
                   for _, address, _, count in groups for i in range(count)], 120)

        image = os.path.join(work, 'bench-4mb.bin')
        with open(image, 'wb') as f:
            f.write(esp32_app_image(IMAGE_SIZE, '9.9.9'))

        env = uitest.test_env({
            'GSETTINGS_BACKEND': 'keyfile',
            'XDG_CONFIG_HOME': config,
            'ESPFLEET_LATENCY_PROBE': '1',
            'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/espfleet-bench-system-bus',
        })
        app = uitest.App(args.app, env, log_path=os.path.join(work, 'espfleet.log'))
        app.start()
        entries = ['(%s, %s, uint16 %d, uint16 %d)' % (gv_str(address), gv_str('espota'),
                                                       3232 + i, 8080 + i)
                   for _, address, _, count in groups for i in range(count)]
        t0 = time.monotonic()
        app.activate('add-addresses', '@a(ssqq) [' + ', '.join(entries) + ']')
        devices = app.wait('%d devices online' % DEVICES, lambda: (
            lambda d: d if len(d) == DEVICES and all(x['online'] and x['version'] for x in d)
            else None)(app.devices()), 120, 0.25)
        log('%d devices found and described in %.1f s' % (DEVICES, time.monotonic() - t0))

        app.activate('open-image', gv_str(image))
        app.wait('the image report', lambda: app.state('image-report'), 60)
        targets = [d['id'] for d in devices if d['name'].startswith('bench-up-')]
        check(len(targets) == UPDATING, 'devices to update: %d' % len(targets))
        app.activate('select-devices', gv_strv(targets))
        app.wait('%d ticked' % UPDATING, lambda: sum(d['checked'] for d in app.devices())
                 == UPDATING, 30)

        app.reset_latency()
        number = (app.state('batch') or {}).get('number', 0) + 1
        t0 = time.monotonic()
        app.activate('update')
        peak_active = 0

        def ended():
            nonlocal peak_active
            devices = app.devices()
            active = sum(d['phase'] in ('connecting', 'authenticating', 'uploading',
                                        'device-verifying') for d in devices)
            peak_active = max(peak_active, active)
            batch = app.state('batch')
            return batch if batch['number'] == number and batch['finished'] else None
        batch = app.wait('the end of the batch', ended, TOTAL_TIMEOUT - 120, 0.5)
        duration = time.monotonic() - t0
        latency = app.state('latency')
        rss = peak_rss_mb(app.proc.pid)

        log('')
        log('UI responsiveness: %d devices, %d updated at once with a %.1f MB image'
            % (DEVICES, UPDATING, IMAGE_SIZE / 1048576.0))
        log('  batch:            %s in %.1f s (at most %d transfers at the same time seen)'
            % (batch['summary'], duration, peak_active))
        log('  main-loop probe:  %d ticks of 10 ms' % latency['samples'])
        log('  lateness max:     %6.1f ms   (target < %.0f ms), %.1f s into the batch'
            % (latency['max_ms'], TARGET_MAX_MS, latency['max_at_s']))
        log('  lateness p99:     %6.1f ms' % latency['p99_ms'])
        log('  main thread busy: %6.1f ms at most, %.1f ms p99 (CPU time between two ticks: '
            'what the app itself spent; the rest of a late tick is waiting for a CPU)'
            % (latency['busy_max_ms'], latency['busy_p99_ms']))
        log('  machine load:     %s (1, 5, 15 min)' % ', '.join(
            '%.2f' % x for x in os.getloadavg()))
        log('  peak RSS:         %6.1f MB   (target < %.0f MB)' % (rss, TARGET_RSS_MB))
        ok = True
        if batch['counts'].get('verified', 0) != UPDATING:
            log('  MISSED: not every device verified: %r' % batch['counts'])
            ok = False
        if latency['max_ms'] >= TARGET_MAX_MS:
            log('  MISSED: the main loop stalled for %.1f ms' % latency['max_ms'])
            ok = False
        if rss >= TARGET_RSS_MB:
            log('  MISSED: peak RSS %.1f MB' % rss)
            ok = False
        log('  result:           %s' % ('targets met' if ok else 'TARGETS MISSED'))
        rc = app.quit(timeout=60)
        check(rc == 0, 'espfleet exited with %d' % rc)
        return 0 if ok else 1
    finally:
        if app is not None:
            app.kill()
        for p in sims:
            p.terminate()
        for p in sims:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('build', nargs='?', help='the build directory (./run bench)')
    parser.add_argument('--app')
    parser.add_argument('--sim')
    parser.add_argument('--inner', action='store_true')
    args = parser.parse_args()
    if args.build:
        args.app = args.app or os.path.join(args.build, 'src', 'gtk', 'espfleet')
        args.sim = args.sim or os.path.join(args.build, 'firmware', 'port', 'linux-sim',
                                            'espfleet-sim')
        os.environ.setdefault('GSETTINGS_SCHEMA_DIR', os.path.join(args.build, 'data'))
    if not args.app or not args.sim:
        parser.error('give the build directory, or --app and --sim')
    if not args.inner:
        tool = uitest.missing_tools()
        if tool is not None:
            print('SKIP: %s is not installed (xvfb, dbus, x11-apps, x11-utils, imagemagick, '
                  'gnome-keyring)' % tool)
            return uitest.SKIP
        return uitest.run_group(uitest.inner_command(__file__, ['--app', args.app, '--sim',
                                                                args.sim]), TOTAL_TIMEOUT)
    try:
        return inner(args)
    except (uitest.CheckFailed, RuntimeError, OSError, ValueError, KeyError) as e:
        print('FAIL:', type(e).__name__, e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
