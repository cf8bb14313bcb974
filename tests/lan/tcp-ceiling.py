#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""tcp-ceiling.py - what plain TCP carries to a device over its link: the ceiling of any uploader

usage: tcp-ceiling.py send --listen ADDR:PORT --size BYTES [--sndbuf BYTES]
       tcp-ceiling.py recv --connect ADDR:PORT --bind ADDR --size BYTES --window BYTES

The espota data phase without espota: the receiver (in the device's namespace) connects back
to the sender from the device's address with the same SO_RCVBUF espfleet-sim gives its
upload connection (--window, the device's TCP receive window); the sender, like espfleet,
sends BYTES as fast as the kernel takes them and waits for the receiver's "OK" after the last
byte. The sender prints the seconds from accepting the connection to that "OK": the same
span espfleet's job reports as transfer_s, without a flash to write or a protocol to speak.
No sender can move the image faster over this link to a device with this window.
"""

import argparse
import socket
import sys
import time


def addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def send(args):
    with socket.create_server(addr(args.listen)) as server:
        server.settimeout(30)
        print("listening", flush=True)
        conn, _ = server.accept()
        with conn:
            start = time.monotonic()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
            conn.settimeout(60)
            block = bytes(range(256)) * 64
            left = args.size
            while left > 0:
                n = conn.send(block[:min(left, len(block))])
                left -= n
            reply = b""
            while not reply.endswith(b"OK"):
                chunk = conn.recv(16)
                if not chunk:
                    sys.exit("the receiver closed before it said OK")
                reply += chunk
            print(f"{time.monotonic() - start:.6f}", flush=True)


def recv(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.window)
    s.bind((args.bind, 0))
    s.settimeout(60)
    deadline = time.monotonic() + 10
    while True:
        try:
            s.connect(addr(args.connect))
            break
        except (ConnectionRefusedError, socket.timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            s.close()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.window)
            s.bind((args.bind, 0))
            s.settimeout(60)
    got = 0
    while got < args.size:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"the sender closed after {got} of {args.size} bytes")
        got += len(chunk)
    s.sendall(b"OK")
    s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("--listen", required=True)
    ps.add_argument("--size", type=int, required=True)
    # what espfleet's espota transport asks for (fleet-transport.c: the default window)
    ps.add_argument("--sndbuf", type=int, default=256 * 1024)
    pr = sub.add_parser("recv")
    pr.add_argument("--connect", required=True)
    pr.add_argument("--bind", required=True)
    pr.add_argument("--size", type=int, required=True)
    pr.add_argument("--window", type=int, required=True)
    args = p.parse_args()
    send(args) if args.cmd == "send" else recv(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
