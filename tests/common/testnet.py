# SPDX-License-Identifier: GPL-3.0-or-later
"""testnet.py - loopback helpers the process tests, GUI tests and benchmarks share"""

import socket


def free_ports(n):
    """n consecutive free TCP ports on 127.0.0.1 (the simulator uses port + i)"""
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        base = s.getsockname()[1]
        s.close()
        if base + n > 65000:
            continue
        ok = True
        for p in range(base, base + n):
            t = socket.socket()
            try:
                t.bind(("127.0.0.1", p))
            except OSError:
                ok = False
            t.close()
        if ok:
            return base
    raise RuntimeError("no free ports")
