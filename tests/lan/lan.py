# SPDX-License-Identifier: GPL-3.0-or-later
"""lan.py - a small LAN of network namespaces for end-to-end tests

One namespace "lan" holds a bridge (198.18.0.1/15), a private D-Bus system bus and a real
avahi-daemon for the app side; every simulated device gets a namespace of its own with an
address in 198.18.0.0/15, joined to the bridge by a veth pair. A shaped link (delay, rate,
loss) uses tc netem on both ends when the kernel has netem; otherwise the device's eth0 and
its bridge port are two TAP devices with the userspace shaper (shaper.py) moving the frames
between them. Nothing is started in the root namespace and nothing leaves these namespaces.

    with Lan() as lan:
        dev = lan.add_device()
        lan.start_sim(dev, ["--name", "esp-lab-1", ...])
        far = lan.add_device(shaped=True)
        lan.shape(far, delay_ms=10, rate="20mbit", loss="1%")
        out = lan.run(["espfleet-cli", "discover", "--json"])

Every process and namespace is removed on exit, also when a test fails or is interrupted.
Tests that cannot run (not root, a tool missing) call skip(reason), which exits with 77.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
NET_PREFIX = "198.18"
REQUIRED_TOOLS = ["ip", "tc", "dbus-daemon", "avahi-daemon", "unshare", "mount"]
SHAPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shaper.py")
# "netem" or "userspace" forces a shaper (e.g. to test shaper.py on a kernel with netem)
SHAPER_ENV = "ESPFLEET_LAN_SHAPER"
_netem = None  # whether tc netem works here, probed once per process


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def check_environment():
    """Skip (exit 77) with the reason when the harness cannot run here."""
    if os.geteuid() != 0:
        skip("the LAN harness needs root to create network namespaces (CI runs as root)")
    for tool in REQUIRED_TOOLS:
        if shutil.which(tool) is None:
            skip(f"{tool} is not installed (./run installs it)")
    probe = f"efprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"cannot create network namespaces here: {r.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=br0
enable-dbus=yes
host-name=espfleet-test-host
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-addresses=yes
[reflector]
[rlimits]
"""


class Device:
    def __init__(self, index, ns, veth, address):
        self.index = index
        self.ns = ns
        self.veth = veth  # the bridge port in the lan namespace: a veth end, or a TAP if shaper
        self.address = address
        self.procs = []
        self.shaper = None  # the userspace shaper between eth0 and the bridge port, if any
        self.control = None  # its control socket


class Lan:
    def __init__(self, keep_logs=None):
        self.tag = f"{os.getpid() % 100000}"
        self.lan_ns = f"eflan{self.tag}"
        self.devices = []
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="espfleet-lan-")
        self.bus_socket = os.path.join(self.tmp, "system_bus_socket")
        self.keep_logs = keep_logs
        self._up = False
        self._next_index = 1

    # -- lifetime --------------------------------------------------------------------

    def __enter__(self):
        try:
            check_environment()
        except SystemExit:
            # a skip: nothing was set up but the temporary directory
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        atexit.register(self.down)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._signal_down)
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def _signal_down(self, signum, frame):
        self.down()
        sys.exit(128 + signum)

    def _sh(self, *args, check=True):
        r = subprocess.run(list(args), capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {r.stderr.strip()}")
        return r

    def up(self):
        self._sh("ip", "netns", "add", self.lan_ns)
        self._up = True
        self._sh("ip", "-n", self.lan_ns, "link", "set", "lo", "up")
        self._sh("ip", "-n", self.lan_ns, "link", "add", "br0", "type", "bridge")
        self._sh("ip", "-n", self.lan_ns, "link", "set", "br0", "up")
        self._sh("ip", "-n", self.lan_ns, "addr", "add", f"{NET_PREFIX}.0.1/15", "dev", "br0")
        # a private system bus for avahi-daemon and the app
        conf = os.path.join(self.tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONF.format(socket=self.bus_socket))
        self.spawn_in(self.lan_ns, ["dbus-daemon", "--config-file", conf, "--nofork", "--nopidfile"],
                      log="dbus")
        self._wait_for(lambda: os.path.exists(self.bus_socket), 5, "the private system bus")
        aconf = os.path.join(self.tmp, "avahi.conf")
        with open(aconf, "w") as f:
            f.write(AVAHI_CONF)
        # a mount namespace of its own so its pid file never meets a system avahi-daemon
        script = ("mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && "
                  f"exec avahi-daemon -f {aconf} --no-drop-root --no-chroot --no-rlimits")
        self.spawn_in(self.lan_ns, ["unshare", "-m", "sh", "-c", script], log="avahi-daemon",
                      env={"DBUS_SYSTEM_BUS_ADDRESS": self.bus_address})
        self._wait_for(lambda: "Server startup complete" in self.log("avahi-daemon"), 10,
                       "avahi-daemon")

    def down(self):
        if not self._up:
            return
        self._up = False
        for p in reversed(self.procs):
            self._kill(p)
        for ns in [d.ns for d in self.devices] + [self.lan_ns]:
            # anything else still running in the namespace
            r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if self.keep_logs:
            os.makedirs(self.keep_logs, exist_ok=True)
            for name in os.listdir(self.tmp):
                if name.endswith(".log"):
                    shutil.copy(os.path.join(self.tmp, name), self.keep_logs)
        shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _kill(p):
        if p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=3)

    @staticmethod
    def _wait_for(cond, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{what} did not come up within {timeout} s")

    # -- processes -------------------------------------------------------------------

    @property
    def bus_address(self):
        return f"unix:path={self.bus_socket}"

    def log(self, name):
        try:
            with open(os.path.join(self.tmp, name + ".log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def spawn_in(self, ns, argv, log, env=None, stdin=None):
        """Start argv in namespace ns, output to <log>.log; stopped by down()."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        out = open(os.path.join(self.tmp, log + ".log"), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=stdin if stdin is not None else subprocess.DEVNULL,
                             env=full_env, start_new_session=True)
        out.close()
        self.procs.append(p)
        return p

    def run(self, argv, timeout=120, env=None, input=None):
        """Run argv in the lan namespace (the app side) with the private system bus."""
        full_env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address, LANG="C.UTF-8",
                        LC_ALL="C.UTF-8", NO_COLOR="1")
        full_env.update(env or {})
        return subprocess.run(["ip", "netns", "exec", self.lan_ns] + argv, capture_output=True,
                              text=True, timeout=timeout, env=full_env, input=input)

    def popen(self, argv, log, env=None):
        """Start a long-running app-side process (e.g. discover --watch)."""
        full_env = {"DBUS_SYSTEM_BUS_ADDRESS": self.bus_address, "LANG": "C.UTF-8",
                    "LC_ALL": "C.UTF-8", "NO_COLOR": "1"}
        full_env.update(env or {})
        return self.spawn_in(self.lan_ns, argv, log=log, env=full_env)

    # -- devices ---------------------------------------------------------------------

    def add_device(self, address=None, shaped=False):
        """A device namespace on the bridge. shaped=True: the link will be given to shape()
        (without netem it is built through the userspace shaper right away, unshaped until
        shape() says otherwise, so shape() never has to rebuild it under running programs)."""
        i = self._next_index
        self._next_index += 1
        ns = f"efdev{self.tag}-{i}"
        veth = f"efv{self.tag}x{i}"[:15]
        address = address or f"{NET_PREFIX}.1.{i}"
        self._sh("ip", "netns", "add", ns)
        dev = Device(i, ns, veth, address)
        self.devices.append(dev)
        self._sh("ip", "-n", ns, "link", "set", "lo", "up")
        if shaped and not self.has_netem():
            self._link_tap(dev)
        else:
            self._sh("ip", "link", "add", veth, "netns", self.lan_ns, "type", "veth", "peer",
                     "name", "eth0", "netns", ns)
            self._sh("ip", "-n", self.lan_ns, "link", "set", veth, "master", "br0")
            self._sh("ip", "-n", self.lan_ns, "link", "set", veth, "up")
        self._configure_eth0(dev)
        return dev

    def _configure_eth0(self, dev):
        self._sh("ip", "-n", dev.ns, "addr", "add", f"{dev.address}/15", "dev", "eth0")
        self._sh("ip", "-n", dev.ns, "link", "set", "eth0", "up")
        # multicast (mDNS) leaves through eth0 even without a default route
        self._sh("ip", "-n", dev.ns, "route", "add", "224.0.0.0/4", "dev", "eth0")

    def _link_tap(self, dev):
        """eth0 = a TAP in the device namespace, the bridge port = a TAP in the lan namespace,
        the shaper between them. Both TAPs are persistent (ip tuntap add), so they keep
        addresses, routes and ifindex whatever happens to the shaper."""
        dev.veth = f"eft{self.tag}x{dev.index}"[:15]
        self._sh("ip", "-n", dev.ns, "tuntap", "add", "dev", "eth0", "mode", "tap")
        self._sh("ip", "-n", self.lan_ns, "tuntap", "add", "dev", dev.veth, "mode", "tap")
        self._sh("ip", "-n", self.lan_ns, "link", "set", dev.veth, "master", "br0")
        self._sh("ip", "-n", self.lan_ns, "link", "set", dev.veth, "up")
        # up before the shaper writes to it: a TAP that is down refuses frames
        self._sh("ip", "-n", dev.ns, "link", "set", "eth0", "up")
        dev.control = os.path.join(self.tmp, f"shaper-{dev.index}.sock")
        log = f"shaper-{dev.index}"
        # a fixed seed per device: the same loss pattern on every run
        dev.shaper = self.spawn_in(self.lan_ns, [sys.executable, SHAPER,
                                                 "--tap", f"{dev.ns}:eth0",
                                                 "--tap", f"{self.lan_ns}:{dev.veth}",
                                                 "--seed", str(dev.index),
                                                 "--control", dev.control], log=log)
        self._wait_for(lambda: os.path.exists(dev.control) or dev.shaper.poll() is not None, 10,
                       f"the shaper of {dev.ns}")
        if dev.shaper.poll() is not None:
            raise RuntimeError(f"the shaper of {dev.ns} exited: {self.log(log)[-1000:]}")

    def has_netem(self):
        """Whether tc netem works on this kernel (probed once, on the lan namespace's lo)."""
        global _netem
        if _netem is None:
            forced = os.environ.get(SHAPER_ENV, "")
            if forced in ("netem", "userspace"):
                _netem = forced == "netem"
            else:
                r = self._sh("tc", "-n", self.lan_ns, "qdisc", "add", "dev", "lo", "root",
                             "netem", "delay", "1ms", check=False)
                _netem = r.returncode == 0
                if _netem:
                    self._sh("tc", "-n", self.lan_ns, "qdisc", "del", "dev", "lo", "root",
                             check=False)
        return _netem

    def shaper_request(self, dev, request, timeout=5):
        """One JSON request to the device's userspace shaper; returns its reply."""
        if dev.control is None:
            raise RuntimeError(f"{dev.ns} has no userspace shaper")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(dev.control)
            s.sendall(json.dumps(request).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf or b"{}")
        if not reply.get("ok"):
            raise RuntimeError(f"shaper of {dev.ns}: {reply.get('error', 'no answer')}")
        return reply

    def set_address(self, dev, address):
        """Give a device a new IP (a DHCP renumbering)."""
        self._sh("ip", "-n", dev.ns, "addr", "del", f"{dev.address}/15", "dev", "eth0")
        self._sh("ip", "-n", dev.ns, "addr", "add", f"{address}/15", "dev", "eth0")
        self._sh("ip", "-n", dev.ns, "route", "replace", "224.0.0.0/4", "dev", "eth0")
        dev.address = address

    def shape(self, dev, delay_ms=0, rate=None, loss=None, seed=None):
        """Delay, rate and loss on each direction of the device's link: RTT = 2 * delay_ms.

        Call it again to change them. netem on both ends when the kernel has netem; otherwise
        the userspace shaper, whose loss sequence restarts from @seed when one is given (its
        default seed is the device index, so runs repeat). Without netem a device not added with shaped=True gets its eth0
        rebuilt as a TAP here, which only works before anything runs in its namespace (a new
        eth0 would silently drop the multicast memberships of running programs)."""
        if dev.shaper is None and not self.has_netem():
            live = [p for p in dev.procs if p.poll() is None]
            if live:
                raise RuntimeError(f"{dev.ns}: no netem here, so shape() must rebuild eth0; call "
                                   "it before start_sim() or use add_device(shaped=True)")
            self._sh("ip", "-n", self.lan_ns, "link", "del", dev.veth)
            self._link_tap(dev)
            self._configure_eth0(dev)
        if dev.shaper is not None:
            self.shaper_request(dev, {"delay_ms": delay_ms, "rate": rate, "loss": loss,
                                      "seed": seed})
            return
        spec = ["netem"]
        if delay_ms:
            spec += ["delay", f"{delay_ms}ms"]
        if rate:
            spec += ["rate", rate]
        if loss:
            spec += ["loss", loss]
        self._sh("tc", "-n", dev.ns, "qdisc", "replace", "dev", "eth0", "root", *spec)
        self._sh("tc", "-n", self.lan_ns, "qdisc", "replace", "dev", dev.veth, "root", *spec)

    def start_sim(self, dev, sim, args, log=None):
        """espfleet-sim inside the device's namespace, bound to its address."""
        argv = [sim, "--bind", dev.address] + list(args)
        p = self.spawn_in(dev.ns, argv, log=log or f"sim-{dev.index}")
        dev.procs.append(p)
        return p

    def stop_device_procs(self, dev, sig=signal.SIGTERM):
        for p in dev.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=5)
        dev.procs.clear()
