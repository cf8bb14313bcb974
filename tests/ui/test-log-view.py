#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-log-view.py - the live log viewer (FleetLogView) under Xvfb, fed by five simulated
devices on 127.0.0.1: per-device and merged views, filters, pause with the held-back count,
autoscroll that stops when scrolled up, clear, save, recording, and a reboot of every device
marked in the log. Screenshots: log-view-device.png, log-view-merged.png, log-view-paused.png,
log-view-serial.png, log-view-sources.png, log-view-reconnected.png.

usage: test-log-view.py --demo LOG_VIEW_DEMO --sim ESPFLEET_SIM --out DIR
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uitest  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testnet import free_ports  # noqa: E402

WINDOW = 'espfleet log view'
COUNT = 5




class Demo:
    def __init__(self, path, port, log):
        self.proc = subprocess.Popen([path, '--port', str(port), '--count', str(COUNT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(log, 'ab'), text=True,
                                     env=uitest.test_env({'NO_COLOR': '1'}))
        first = json.loads(self.proc.stdout.readline())
        uitest.check(first.get('ready'), 'the demo did not start')

    def cmd(self, line, fails=False):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError('the demo exited during: ' + line)
        state = json.loads(reply)
        uitest.check(state['ok'] != fails, f'{line}: {state.get("error")}')
        return state

    def wait(self, what, pred, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            state = self.cmd('state')
            if pred(state):
                return state
            if time.monotonic() > deadline:
                raise uitest.CheckFailed(f'timed out waiting for {what}; the view shows:\n'
                                         + state['text'][-1500:])
            time.sleep(0.1)

    def quit(self):
        try:
            self.proc.stdin.write('quit\n')
            self.proc.stdin.flush()
            self.proc.wait(timeout=10)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def start_sim(sim, port, tmp, log):
    out = open(log, 'ab')
    p = subprocess.Popen([sim, '--name', 'esp-lab', '--count', str(COUNT), '--state-dir',
                          os.path.join(tmp, 'state'), '--flash-speed', 'fast', '--quiet',
                          '--log-port', str(port), '--ota-port', str(free_ports(COUNT)),
                          '--http-port', str(free_ports(COUNT)), '--heartbeat', '1',
                          '--log-rate', '3'],
                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port + COUNT - 1), 1).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('espfleet-sim did not start')


def stop_sim(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=10)


def shot(out, name):
    """the log never stands still: give the view a moment to draw, then take the screen"""
    time.sleep(0.6)
    uitest.screenshot(out, name, settle=False, window=WINDOW)


def inner(args):
    out = args.out
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='espfleet-logview-')
    port = free_ports(COUNT)
    sim = start_sim(args.sim, port, tmp, os.path.join(out, 'sim.log'))
    demo = Demo(args.demo, port, os.path.join(out, 'demo.log'))
    try:
        uitest.wait_for('the window', lambda: uitest.app_window_geometry(WINDOW), 30)
        uitest.park_pointer()

        # per-device view follows the selection
        demo.cmd('select name:esp-lab-2')
        st = demo.wait('esp-lab-2 boot lines',
                       lambda s: f'log stream on tcp/{port + 1}' in s['text']
                       and 'heartbeat: uptime' in s['text'])
        uitest.check(f'tcp/{port}\n' not in st['text'] and f'tcp/{port + 2}' not in st['text'],
                     'another device in the per-device view')
        uitest.check(st['text'].splitlines()[0].startswith('--- connected to 127.0.0.1:'),
                     st['text'][:200])
        demo.cmd('timestamps 1')
        shot(out, 'log-view-device')
        demo.cmd('select name:esp-lab-4')
        st = demo.wait('esp-lab-4', lambda s: f'log stream on tcp/{port + 3}' in s['text'])
        uitest.check(f'tcp/{port + 1}' not in st['text'], 'esp-lab-2 still shown')

        # merged: every device, with its name in the device column
        demo.cmd('mode merged-all')
        st = demo.wait('all devices merged',
                       lambda s: all(f'esp-lab-{i}' in s['text'] for i in range(1, COUNT + 1)))
        lines = st['text'].splitlines()
        uitest.check(all(line[13:29].strip().startswith('esp-lab-') for line in lines[-20:]),
                     '\n'.join(lines[-5:]))
        shot(out, 'log-view-merged')

        # merged view of the selected devices only
        demo.cmd('select name:esp-lab-1 name:esp-lab-3')
        demo.cmd('mode merged-selected')
        st = demo.wait('two devices merged', lambda s: 'esp-lab-3' in s['text'])
        names = {line[13:29].strip() for line in st['text'].splitlines()}
        uitest.check(names == {'esp-lab-1', 'esp-lab-3'}, str(names))
        demo.cmd('mode merged-all')

        # filters: text, regular expression, tag
        st = demo.cmd('filter HEARTBEAT')
        uitest.check(st['n_lines'] > 0 and all('heartbeat' in l
                                               for l in st['text'].splitlines()),
                     st['text'][-500:])
        st = demo.cmd(r'regex seq=\d+ temp=2[0-9]')
        uitest.check(st['n_lines'] > 0 and all('sensor: seq=' in l
                                               for l in st['text'].splitlines()),
                     st['text'][-500:])
        st = demo.cmd('regex ([', fails=True)
        uitest.check('regular expression' in st['error'], st['error'])
        demo.cmd('regex ')
        st = demo.cmd('tag app_main')
        body = [l for l in st['text'].splitlines() if '---' not in l]
        uitest.check(body and all(' app_main: ' in l for l in body), st['text'][-500:])
        demo.cmd('tag ')
        st = demo.cmd('level error')
        uitest.check(all('--- ' in l for l in st['text'].splitlines()),
                     'only connection events pass an error filter here: ' + st['text'][-300:])
        demo.cmd('level ')

        # pause: capture goes on, the view holds lines back and counts them
        before = demo.cmd('pause 1')
        uitest.check(before['paused'], 'not paused')
        held = demo.wait('lines held back', lambda s: s['held'] >= 10)
        uitest.check(held['n_lines'] == before['n_lines'], 'the view grew while paused')
        uitest.check(held['hub_lines'] > before['hub_lines'], 'capture stopped')
        shot(out, 'log-view-paused')
        after = demo.cmd('pause 0')
        uitest.check(after['held'] == 0 and after['n_lines'] >= held['n_lines'] + held['held'] - 5,
                     f"{after['n_lines']} lines after resuming, {held['n_lines']} + {held['held']}")

        # autoscroll: stops when scrolled up, comes back with "follow"
        demo.wait('enough lines to scroll', lambda s: s['n_lines'] > 200, timeout=60)
        st = demo.cmd('scroll-up')
        st = demo.wait('follow off', lambda s: not s['follow'], timeout=5)
        time.sleep(1)
        uitest.check(not demo.cmd('state')['follow'], 'new lines scrolled the view back')
        st = demo.cmd('follow')
        uitest.check(st['follow'], 'follow did not come back')

        # save and record
        save = os.path.join(tmp, 'saved.log')
        demo.cmd('save ' + save)
        text = open(save).read()
        uitest.check('esp-lab-5' in text and 'boot: ESP-IDF' in text, text[:300])
        rec = os.path.join(tmp, 'rec')
        demo.cmd('record ' + rec)
        time.sleep(1.5)
        demo.cmd('record -')
        files = sorted(os.listdir(rec))
        uitest.check(len(files) == COUNT and files[0] == 'name_esp-lab-1.log', str(files))

        # a serial port: its own log with the serial controls (a pty has no RTS/DTR, so
        # the reset reports that in the status line)
        master, slave = os.openpty()
        link = os.path.join(tmp, 'ttyUSB-demo')
        os.symlink(os.ttyname(slave), link)
        os.close(slave)
        demo.cmd(f'serial {link} 74880')
        os.write(master, b'\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n'
                         b'\x1b[0;33mW (12) wifi: weak signal\x1b[0m\r\n'
                         b'\x1b[0;31mE (15) app: sensor missing\x1b[0m\r\n'
                         b'I (20) app: plain text \xff byte\r\n')
        st = demo.wait('serial lines', lambda s: 'sensor missing' in s['text'])
        uitest.check(f'--- opened {link} at 74880 baud' in st['text'], st['text'][:300])
        uitest.check('plain text \\xff byte' in st['text'], st['text'][-300:])
        demo.cmd('reset')
        shot(out, 'log-view-serial')
        os.close(master)
        demo.cmd('mode merged-all')

        # the "add a source" popover: a telnet logger on a port of its own, then syslog
        srv = socket.socket()
        srv.bind(('127.0.0.1', 0))
        srv.listen(1)
        tport = srv.getsockname()[1]
        demo.cmd('popover-open')
        shot(out, 'log-view-sources')
        demo.cmd(f'popover-tcp 127.0.0.1:{tport}')
        conn, _ = srv.accept()
        conn.sendall(b'\xff\xfb\x01telnet logger says hi\r\n')
        st = demo.wait('the telnet line', lambda s: 'telnet logger says hi' in s['text'])
        uitest.check(st['mode'] == 0, f"mode {st['mode']} after adding a log port")
        conn.close()
        srv.close()
        sport = free_ports(1)
        demo.cmd(f'popover-syslog {sport}')
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(('127.0.0.2', 0))
        udp.sendto(b'<12>1 - esp-x app - - - low battery', ('127.0.0.1', sport))
        udp.close()
        st = demo.wait('the syslog line', lambda s: '127.0.0.2' in s['text']
                       and 'app: low battery' in s['text'])
        uitest.check(st['mode'] == 1, f"mode {st['mode']} after starting syslog")

        # clear, then every device reboots: marked, reconnected, booting again
        st = demo.cmd('clear')
        uitest.check(st['n_lines'] == 0, f"{st['n_lines']} lines after clear")
        stop_sim(sim)
        demo.wait('disconnected marks',
                  lambda s: s['text'].count('--- disconnected') == COUNT)
        sim = start_sim(args.sim, port, tmp, os.path.join(out, 'sim.log'))
        st = demo.wait('reconnected and booted',
                       lambda s: s['text'].count('--- reconnected') == COUNT
                       and s['text'].count('boot: ESP-IDF v5.3.1') == COUNT, timeout=40)
        # the marks and the boot lines together
        demo.cmd(r'regex connected|boot: ESP-IDF|app_main: espfleet-sim')
        shot(out, 'log-view-reconnected')
        uitest.log('max batch:', st['max_batch_us'] / 1000.0, 'ms')
    finally:
        demo.quit()
        stop_sim(sim)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--demo', required=True)
    ap.add_argument('--sim', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--inner', action='store_true')
    args = ap.parse_args()
    if args.inner:
        try:
            return inner(args)
        except (uitest.CheckFailed, RuntimeError) as e:
            print('FAIL:', e)
            return 1
    for tool in ('xvfb-run', 'Xvfb', 'xwd', 'xwininfo', 'convert'):
        if shutil.which(tool) is None:
            print(f'SKIP: {tool} is not installed')
            return uitest.SKIP
    cmd = ['xvfb-run', '-a', '-s', '-screen 0 %dx%dx24' % uitest.SCREEN, sys.executable,
           os.path.abspath(__file__), '--inner', '--demo', args.demo, '--sim', args.sim,
           '--out', args.out]
    return uitest.run_group(cmd, timeout=170, env=uitest.test_env())


if __name__ == '__main__':
    sys.exit(main())
