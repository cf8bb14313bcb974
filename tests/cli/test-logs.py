#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-logs.py - espfleet-cli logs as a process, against espfleet-sim on 127.0.0.1 (no mDNS),
# a telnet server, syslog datagrams from several loopback addresses and a pseudo-terminal
#
# usage: test-logs.py ESPFLEET_CLI ESPFLEET_SIM

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testnet import free_ports  # noqa: E402

CLI, SIM = sys.argv[1], sys.argv[2]
failures = []
passed = 0
TIME = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d ")


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(name)
        print(f"FAIL {name}: {detail}", file=sys.stderr, flush=True)
    return cond


def env(color=False):
    e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    if not color:
        e["NO_COLOR"] = "1"
    else:
        e.pop("NO_COLOR", None)
    return e


def run(*args, timeout=60):
    p = subprocess.run([CLI, "logs", *args], capture_output=True, timeout=timeout, env=env())
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")




class Sim:
    def __init__(self, tmp, count=2):
        self.tmp = tmp
        self.count = count
        self.log_port = free_ports(count)
        self.ota_port = free_ports(count)
        self.http_port = free_ports(count)
        self.proc = None

    def start(self, extra=()):
        out = open(os.path.join(self.tmp, "sim.log"), "ab")
        self.proc = subprocess.Popen(
            [SIM, "--name", "esp-cli", "--count", str(self.count), "--state-dir",
             os.path.join(self.tmp, "state"), "--flash-speed", "fast", "--quiet",
             "--log-port", str(self.log_port), "--ota-port", str(self.ota_port),
             "--http-port", str(self.http_port), "--heartbeat", "1", *extra],
            stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.log_port + self.count - 1), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("espfleet-sim did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def url(self, i=0):
        return f"tcp://127.0.0.1:{self.log_port + i}"


def test_sim(tmp):
    sim = Sim(tmp)
    sim.start()
    try:
        # one device: its lines as it sent them, boot first, ending after --lines
        rc, out, err = run(sim.url(0), "--lines", "12")
        lines = out.splitlines()
        check("one-rc", rc == 0, f"rc={rc} {err}")
        check("one-connected", lines and lines[0].startswith("--- connected to 127.0.0.1:"),
              out[:300])
        check("one-boot", "I (27) boot: ESP-IDF v5.3.1 2nd stage bootloader" in out, out[:500])
        check("one-count", len([l for l in lines if not l.startswith("---")]) == 12, out)
        check("one-no-escape", "\033" not in out, repr(out[:200]))

        # two devices: every line names its device
        rc, out, err = run(sim.url(0), sim.url(1), "--lines", "60")
        names = {l.split(" | ")[0] for l in out.splitlines()}
        check("two-prefix", names == {f"127.0.0.1:{sim.log_port}", f"127.0.0.1:{sim.log_port + 1}"},
              str(names))

        # merged: a time and a device column, both devices, events marked
        rc, out, err = run("--merged", sim.url(0), sim.url(1), "--lines", "80")
        lines = out.splitlines()
        check("merged-rc", rc == 0, err)
        check("merged-time", all(TIME.match(l) for l in lines), out[:300])
        check("merged-columns", all(l[13:29].rstrip() in (f"127.0.0.1:{sim.log_port}",
                                                         f"127.0.0.1:{sim.log_port + 1}")
                                    for l in lines), out[:400])
        check("merged-both", len({l[13:29] for l in lines}) == 2, out[:400])

        # filters
        rc, out, err = run(sim.url(0), "--tag", "app_main", "--lines", "3")
        body = [l for l in out.splitlines() if not l.startswith("---")]
        check("tag", len(body) == 3 and all(" app_main: " in l for l in body), out)
        rc, out, err = run(sim.url(0), "--grep", r"HEARTBEAT: uptime \d+", "-i", "--lines", "2")
        body = [l for l in out.splitlines() if not l.startswith("---")]
        check("grep", len(body) == 2 and all("heartbeat: uptime" in l for l in body), out)
        rc, out, err = run(sim.url(0), "--level", "warn", "--duration", "2")
        body = [l for l in out.splitlines() if not l.startswith("---")]
        check("level", rc == 0 and body == [], out)
        rc, out, err = run(sim.url(0), "--grep", "([", "--lines", "1")
        check("bad-regex", rc == 2 and "regular expression" in err, err)

        # --save writes what is shown; --record one file per device
        save = os.path.join(tmp, "shown.log")
        rec = os.path.join(tmp, "rec")
        rc, out, err = run(sim.url(0), sim.url(1), "--save", save, "--record", rec, "-t",
                           "--lines", "30")
        check("save-same", open(save).read() == out, f"{len(open(save).read())} vs {len(out)}")
        files = sorted(os.listdir(rec)) if os.path.isdir(rec) else []
        check("record-files", len(files) == 2 and all(f.startswith("addr_127.0.0.1")
                                                      for f in files), str(files))
        for f in files:
            text = open(os.path.join(rec, f)).read()
            check("record-header-" + f, text.startswith("# espfleet log of 127.0.0.1:"), text[:80])
            check("record-boot-" + f, " I (27) boot: ESP-IDF v5.3.1" in text, text[:300])

        # colours on a terminal: the device's own ESP-IDF colours come through
        master, slave = pty.openpty()
        p = subprocess.Popen([CLI, "logs", sim.url(0), "--lines", "5"], stdout=slave,
                             stderr=subprocess.PIPE, env=env(color=True))
        os.close(slave)
        data = b""
        while True:
            r, _, _ = select.select([master], [], [], 10)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        p.wait(timeout=10)
        os.close(master)
        check("tty-colour", b"\033[0;32mI (27) boot:" in data, repr(data[:200]))

        # the device reboots: marked, reconnected by itself, the new boot shows
        p = subprocess.Popen([CLI, "logs", sim.url(0), "--duration", "9"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env())
        time.sleep(2)
        sim.stop()
        time.sleep(1.5)
        sim.start()
        out, err = p.communicate(timeout=30)
        out = out.decode()
        check("reboot-rc", p.returncode == 0, err.decode())
        i_disc = out.find("--- disconnected: the device closed the connection")
        i_rec = out.find("--- reconnected")
        check("reboot-marks", 0 < i_disc < i_rec, out[-1500:])
        check("reboot-boot-again", out.count("I (27) boot: ESP-IDF v5.3.1") == 2, out[-1500:])
        check("reboot-once", out.count("--- disconnected") == 1, out[-1500:])
    finally:
        sim.stop()


def test_telnet(tmp):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        conn, _ = srv.accept()
        conn.sendall(b"\xff\xfb\x01\xff\xfb\x03RemoteDebug ready\r\n(D) value=\xff\xff\r\n")
        conn.settimeout(5)
        try:
            got["reply"] = conn.recv(16)
        except OSError:
            got["reply"] = b""
        time.sleep(0.5)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    rc, out, err = run(f"telnet://127.0.0.1:{port}", "--lines", "2")
    t.join()
    srv.close()
    check("telnet-text", "RemoteDebug ready" in out and "(D) value=\\xff" in out, repr(out))
    check("telnet-no-iac", "\\xfb" not in out, repr(out))
    check("telnet-refused", got.get("reply", b"").startswith(b"\xff\xfe\x01\xff\xfe\x03"),
          repr(got.get("reply")))


def send_syslog(src, port, text):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.sendto(text.encode(), ("127.0.0.1", port))
    s.close()


def test_syslog(tmp):
    port = free_ports(1)

    def sender():
        time.sleep(1)
        send_syslog("127.0.0.2", port, "<11>1 - esp-a app - - - disk on fire")
        send_syslog("127.0.0.3", port, "<14>esp-b sensor: 21.5 C")
        send_syslog("127.0.0.3", port, "<14>1 - esp-b app - - - \033[0;33mW (77) ota: low space\033[0m")

    t = threading.Thread(target=sender)
    t.start()
    rc, out, err = run("--source", "syslog", "--bind", "127.0.0.1", "--syslog-port", str(port),
                       "--duration", "3")
    t.join()
    check("syslog-rc", rc == 0, err)
    check("syslog-a", "127.0.0.2 | app: disk on fire" in out, out)
    check("syslog-b", "127.0.0.3 | sensor: 21.5 C" in out, out)
    check("syslog-idf", "127.0.0.3 | W (77) ota: low space" in out, out)

    # a device named by its address: only its lines
    t = threading.Thread(target=sender)
    t.start()
    rc, out, err = run("127.0.0.3", "--source", "syslog", "--bind", "127.0.0.1", "--syslog-port",
                       str(port), "--duration", "3", "--level", "warn")
    t.join()
    check("syslog-only-b", "disk on fire" not in out and "W (77) ota: low space" in out
          and "21.5" not in out, out)

    # the port is taken
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", port))
    rc, out, err = run("--source", "syslog", "--bind", "127.0.0.1", "--syslog-port", str(port),
                       "--duration", "2")
    blocker.close()
    check("syslog-busy", rc == 1 and "Cannot listen for syslog" in err, f"{rc} {err}")


TCGETS2 = 0x802C542A


def pty_baud(master):
    buf = bytearray(44)
    fcntl.ioctl(master, TCGETS2, buf)
    return struct.unpack_from("2I", buf, 36)[0]


def test_serial(tmp):
    master, slave = os.openpty()
    link = os.path.join(tmp, "ttyUSB-sim")
    os.symlink(os.ttyname(slave), link)
    os.close(slave)
    p = subprocess.Popen([CLI, "logs", "--source", f"serial:{link}@74880", "--duration", "3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    deadline = time.monotonic() + 5
    baud = 0
    while time.monotonic() < deadline and baud != 74880:
        time.sleep(0.05)
        baud = pty_baud(master)
    check("serial-baud", baud == 74880, str(baud))
    os.write(master, b"\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n"
                     b"\x1b[0;32mI (31) app: hello over serial\x1b[0m\r\nno newline yet")
    out, err = p.communicate(timeout=20)
    out = out.decode()
    os.close(master)
    check("serial-open", f"--- opened {link} at 74880 baud" in out, out)
    check("serial-lines", "I (31) app: hello over serial" in out and "rst cause:2" in out, out)
    check("serial-partial", "no newline yet" in out, out)
    rc, out, err = run("--source", "serial:/nonexistent/ttyUSB9", "--duration", "1")
    check("serial-missing", rc == 0 and "--- Cannot open /nonexistent/ttyUSB9" in out, out + err)
    rc, out, err = run("--list-ports")
    check("list-ports", rc == 0 and out.strip() != "", out + err)


def test_usage():
    for args in (["--source", "bogus"], ["--level", "loud", "x"], [],
                 ["--source", "serial:/dev/x@fast"], ["--port", "70000", "x"],
                 ["tcp://127.0.0.1"], ["--source", "syslog", "tcp://127.0.0.1:1"]):
        rc, out, err = run(*args)
        check("usage " + " ".join(args), rc == 2, f"rc={rc} {err}")
    rc, out, err = run("192.0.2.1")
    check("address-needs-port", rc == 2 and "--port" in err, err)


with tempfile.TemporaryDirectory() as tmp:
    test_sim(tmp)
    test_telnet(tmp)
    test_syslog(tmp)
    test_serial(tmp)
    test_usage()

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
