#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mdns-interop.py - check the responder's packets with a DNS parser that is not ours

Runs mdns-dump (the core behind a fake clock, no sockets), feeds it queries built here
byte by byte, and parses every packet it sends with the RFC 1035 / 6762 / 6763 rules
written out below, independently of firmware/core/ota-mdns.c. When dnspython is
installed, each packet is also parsed by it.

  mdns-interop.py MDNS_DUMP [--corpus DIR]

--corpus writes the queries and the core's packets as seeds for tests/fuzz/corpus/mdns.
"""

import os
import struct
import subprocess
import sys

HOST = "esp32-a0b1c2d3e4f5"
HOSTNAME = HOST + ".local"
SERVICE = "_arduino._tcp.local"
INSTANCE = HOST + "." + SERVICE
ENUM = "_services._dns-sd._udp.local"
OUR_IP = "192.168.7.20"
PEER = "192.168.7.50"

T_A, T_PTR, T_TXT, T_AAAA, T_SRV, T_NSEC, T_ANY = 1, 12, 16, 28, 33, 47, 255

FAILURES = []
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


# ---- building queries by hand ----

def enc_name(name):
    out = b""
    for label in name.split("."):
        raw = label.encode()
        assert 0 < len(raw) < 64
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def query(qid, questions, answers=(), flags=0):
    pkt = struct.pack(">HHHHHH", qid, flags, len(questions), len(answers), 0, 0)
    for name, qtype, qclass in questions:
        pkt += enc_name(name) + struct.pack(">HH", qtype, qclass)
    for name, rtype, ttl, rdata in answers:
        pkt += enc_name(name) + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata
    return pkt


# ---- parsing, RFC 1035 §4 with compression ----

class Malformed(Exception):
    pass


def read_name(pkt, off, label_starts):
    """returns (labels, offset after the name); pointers must hit a label start"""
    labels = []
    jumped_end = None
    seen = set()
    total = 1
    while True:
        if off >= len(pkt):
            raise Malformed("name runs past the end")
        c = pkt[off]
        if c & 0xC0 == 0xC0:
            if off + 1 >= len(pkt):
                raise Malformed("cut pointer")
            target = ((c & 0x3F) << 8) | pkt[off + 1]
            if target >= off:
                raise Malformed("pointer not backwards: %d -> %d" % (off, target))
            if target not in label_starts:
                raise Malformed("pointer %d -> %d not at a label or name start" % (off, target))
            if target in seen:
                raise Malformed("pointer loop")
            seen.add(target)
            if jumped_end is None:
                jumped_end = off + 2
            off = target
            continue
        if c & 0xC0:
            raise Malformed("bad label type")
        if c == 0:
            off += 1
            break
        label_starts.add(off)
        raw = pkt[off + 1:off + 1 + c]
        if len(raw) != c:
            raise Malformed("label cut")
        total += 1 + c
        labels.append(raw.decode("utf-8"))
        off += 1 + c
    if total > 255:
        raise Malformed("name longer than 255")
    return ".".join(labels), (jumped_end if jumped_end is not None else off)


def parse(pkt):
    if len(pkt) < 12:
        raise Malformed("short")
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", pkt[:12])
    off = 12
    starts = set()
    msg = {"id": qid, "flags": flags, "qd": [], "an": [], "ns": [], "ar": []}
    for _ in range(qd):
        starts.add(off)
        name, off = read_name(pkt, off, starts)
        qtype, qclass = struct.unpack(">HH", pkt[off:off + 4])
        off += 4
        msg["qd"].append({"name": name, "type": qtype, "class": qclass & 0x7FFF,
                          "qu": bool(qclass & 0x8000)})
    for section, count in (("an", an), ("ns", ns), ("ar", ar)):
        for _ in range(count):
            starts.add(off)
            name, off = read_name(pkt, off, starts)
            if off + 10 > len(pkt):
                raise Malformed("record header cut")
            rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", pkt[off:off + 10])
            off += 10
            rdata = pkt[off:off + rdlen]
            if len(rdata) != rdlen:
                raise Malformed("rdata cut")
            rec = {"name": name, "type": rtype, "class": rclass & 0x7FFF,
                   "flush": bool(rclass & 0x8000), "ttl": ttl, "raw": rdata}
            if rtype == T_A:
                if rdlen != 4:
                    raise Malformed("A length")
                rec["addr"] = ".".join(str(b) for b in rdata)
            elif rtype == T_PTR:
                starts.add(off)
                rec["target"], end = read_name(pkt, off, starts)
                if end != off + rdlen:
                    raise Malformed("PTR rdlength")
            elif rtype == T_SRV:
                rec["prio"], rec["weight"], rec["port"] = struct.unpack(">HHH", rdata[:6])
                starts.add(off + 6)
                rec["target"], end = read_name(pkt, off + 6, starts)
                if end != off + rdlen:
                    raise Malformed("SRV rdlength")
            elif rtype == T_TXT:
                strings, p = [], 0
                while p < rdlen:
                    n = rdata[p]
                    if p + 1 + n > rdlen:
                        raise Malformed("TXT string cut")
                    strings.append(rdata[p + 1:p + 1 + n].decode("utf-8"))
                    p += 1 + n
                rec["txt"] = strings
            elif rtype == T_NSEC:
                starts.add(off)
                rec["next"], end = read_name(pkt, off, starts)
                types, p = set(), end
                while p < off + rdlen:
                    window, blen = pkt[p], pkt[p + 1]
                    if not 1 <= blen <= 32 or p + 2 + blen > off + rdlen:
                        raise Malformed("NSEC bitmap")
                    for i in range(blen):
                        for bit in range(8):
                            if pkt[p + 2 + i] & (0x80 >> bit):
                                types.add(window * 256 + i * 8 + bit)
                    p += 2 + blen
                rec["types"] = types
            off += rdlen
            msg[section].append(rec)
    if off != len(pkt):
        raise Malformed("%d bytes after the last record" % (len(pkt) - off))
    return msg


def find(records, rtype, name):
    for r in records:
        if r["type"] == rtype and r["name"].lower() == name.lower():
            return r
    return None


# ---- the dump program ----

def run_dump(dump, script):
    res = subprocess.run([dump], input="\n".join(script) + "\n", capture_output=True,
                         text=True, timeout=60, check=False)
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        raise SystemExit("mdns-dump failed: %d" % res.returncode)
    sent, rcs = [], []
    for line in res.stdout.splitlines():
        parts = line.split()
        if parts[0] == "sent":
            sent.append({"ip": parts[1], "port": int(parts[2]), "t": int(parts[3]),
                         "pkt": bytes.fromhex(parts[4])})
        elif parts[0] == "rc":
            rcs.append(int(parts[1]))
    return sent, rcs


def pkt_cmd(src, port, pkt):
    return "packet %s %d %s" % (src, port, pkt.hex())


EXPECTED_TXT = [
    "board=esp32dev", "auth_upload=yes", "tcp_check=no", "ssh_upload=no", "fw_version=1.2.3",
    "fw_sha256=1011121314151617", "http_update=/update", "log_port=2323",
    "mac=a0:b1:c2:d3:e4:f5", "chip=esp32",
]


def check_service_records(msg, where, ttl_cap=None, legacy=False):
    records = msg["an"] + msg["ar"]
    srv = find(records, T_SRV, INSTANCE)
    txt = find(records, T_TXT, INSTANCE)
    a = find(records, T_A, HOSTNAME)
    check(srv is not None and srv["port"] == 3232 and srv["target"] == HOSTNAME,
          where + ": SRV " + repr(srv))
    check(txt is not None and txt["txt"] == EXPECTED_TXT, where + ": TXT " + repr(txt))
    check(a is not None and a["addr"] == OUR_IP, where + ": A")
    for r in records:
        if ttl_cap is not None:
            check(r["ttl"] <= ttl_cap, where + ": TTL %d > %d" % (r["ttl"], ttl_cap))
        else:
            want = 4500 if r["type"] in (T_PTR, T_TXT) else 120
            check(r["ttl"] == want, where + ": TTL of type %d is %d" % (r["type"], r["ttl"]))
        unique = r["type"] != T_PTR
        check(r["flush"] == (unique and not legacy),
              where + ": cache-flush bit of type %d" % r["type"])
        check(r["class"] == 1, where + ": class")


def dnspython_parse(pkt, where):
    try:
        import dns.message  # noqa: PLC0415 (optional)
    except ImportError:
        return
    try:
        dns.message.from_wire(pkt)
    except Exception as e:  # noqa: BLE001 - any parse error is a failure here
        check(False, where + ": dnspython: " + str(e))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    dump = sys.argv[1]
    corpus = None
    if len(sys.argv) == 4 and sys.argv[2] == "--corpus":
        corpus = sys.argv[3]

    q_ptr = query(0, [(SERVICE, T_PTR, 1)])
    q_enum = query(0, [(ENUM, T_PTR, 1)])
    q_legacy = query(0x4242, [(HOSTNAME, T_A, 1)], flags=0x0100)
    q_legacy_ptr = query(0x1717, [(SERVICE, T_PTR, 1)])
    q_qu = query(0, [(INSTANCE, T_SRV, 0x8001)])
    q_aaaa = query(0, [(HOSTNAME, T_AAAA, 1)])
    q_known = query(0, [(SERVICE, T_PTR, 1)], [(SERVICE, T_PTR, 4500, enc_name(INSTANCE))])
    # the second question compressed: HOST label + pointer to "local" of the first name
    local_at = 12 + len(enc_name(INSTANCE)) - 7
    q_two = query(0, [(INSTANCE, T_TXT, 1)])
    q_two = (q_two[:5] + b"\x02" + q_two[6:] + bytes([len(HOST)]) + HOST.encode() +
             struct.pack(">HHH", 0xC000 | local_at, T_A, 1))

    script = [
        "start", "advance 3000", "state",
        pkt_cmd(PEER, 5353, q_ptr), "advance 200",
        pkt_cmd(PEER, 5353, q_enum), "advance 200",
        pkt_cmd(PEER, 53535, q_legacy),
        pkt_cmd(PEER, 53536, q_legacy_ptr),
        pkt_cmd(PEER, 5353, q_qu),
        "advance 1100",
        pkt_cmd(PEER, 5353, q_aaaa),
        pkt_cmd(PEER, 5353, q_two),
        "advance 1100",
        pkt_cmd(PEER, 5353, q_known), "advance 200",
        "version 1.2.4", "advance 2000",
        "stop",
    ]
    sent, rcs = run_dump(dump, script)
    check(rcs == [0] * 8, "on_packet return codes " + repr(rcs))

    msgs = []
    for i, s in enumerate(sent):
        try:
            msgs.append(parse(s["pkt"]))
        except (Malformed, struct.error, UnicodeDecodeError) as e:
            check(False, "packet %d does not parse: %s" % (i, e))
            return finish()
        dnspython_parse(s["pkt"], "packet %d" % i)

    # probes and announcements
    check(len(sent) >= 5, "at least 5 packets after start")
    for i in range(3):
        m = msgs[i]
        check(m["flags"] == 0 and [q["name"] for q in m["qd"]] == [HOSTNAME, INSTANCE],
              "probe %d questions" % i)
        check(all(q["type"] == T_ANY and q["qu"] for q in m["qd"]), "probe %d: ANY + QU" % i)
        check(sorted(r["type"] for r in m["ns"]) == [T_A, T_TXT, T_SRV],
              "probe %d authority" % i)
        if i:
            check(sent[i]["t"] - sent[i - 1]["t"] == 250, "probe spacing")
    for i in (3, 4):
        m = msgs[i]
        check(sent[i]["ip"] == "224.0.0.251" and sent[i]["port"] == 5353, "announce multicast")
        check(m["flags"] == 0x8400 and m["id"] == 0 and not m["qd"], "announce header")
        ptr = find(m["an"], T_PTR, SERVICE)
        check(ptr is not None and ptr["target"] == INSTANCE, "announce PTR")
        check(find(m["an"], T_PTR, ENUM) is not None, "announce enumeration PTR")
        check_service_records(m, "announce %d" % i)
        nsec = find(m["ar"], T_NSEC, HOSTNAME)
        check(nsec is not None and nsec["types"] == {T_A}, "host NSEC lists A only")
        nsec = find(m["ar"], T_NSEC, INSTANCE)
        check(nsec is not None and nsec["types"] == {T_TXT, T_SRV}, "instance NSEC")
    check(sent[4]["t"] - sent[3]["t"] == 1000, "announce spacing")

    rest = list(zip(sent[5:], msgs[5:]))
    # PTR browse: delayed multicast answer with the service records
    s, m = rest.pop(0)
    check(s["ip"] == "224.0.0.251", "PTR answer multicast")
    ptr = find(m["an"], T_PTR, SERVICE)
    check(ptr is not None and ptr["target"] == INSTANCE and len(m["an"]) == 1, "PTR answer")
    check_service_records(m, "PTR answer")
    # enumeration
    s, m = rest.pop(0)
    ptr = find(m["an"], T_PTR, ENUM)
    check(ptr is not None and ptr["target"] == SERVICE, "enumeration answer")
    # legacy unicast A
    s, m = rest.pop(0)
    check(s["ip"] == PEER and s["port"] == 53535, "legacy reply goes to the querier's port")
    check(m["id"] == 0x4242 and m["flags"] & 0x8000, "legacy id echoed")
    check([q["name"] for q in m["qd"]] == [HOSTNAME], "legacy question repeated")
    a = find(m["an"], T_A, HOSTNAME)
    check(a is not None and a["ttl"] <= 10 and not a["flush"], "legacy A")
    # legacy PTR
    s, m = rest.pop(0)
    check(s["port"] == 53536 and m["id"] == 0x1717, "legacy PTR reply")
    check_service_records(m, "legacy PTR", ttl_cap=10, legacy=True)
    # QU: unicast to port 5353
    s, m = rest.pop(0)
    check(s["ip"] == PEER and s["port"] == 5353, "QU answer unicast")
    check(find(m["an"], T_SRV, INSTANCE) is not None, "QU SRV")
    # AAAA: NSEC
    s, m = rest.pop(0)
    nsec = find(m["an"], T_NSEC, HOSTNAME)
    check(nsec is not None and T_AAAA not in nsec["types"], "negative answer for AAAA")
    # two compressed questions
    s, m = rest.pop(0)
    check(find(m["an"], T_TXT, INSTANCE) is not None and find(m["an"], T_A, HOSTNAME) is not None,
          "both compressed questions answered")
    # known answer: no reply; then the re-announcement with the new version
    s, m = rest.pop(0)
    check(find(m["an"], T_PTR, SERVICE) is not None and m["flags"] == 0x8400,
          "re-announcement after the known-answer query (which got none)")
    txt = find(m["an"], T_TXT, INSTANCE)
    check(txt is not None and "fw_version=1.2.4" in txt["txt"], "new version announced")
    s, m = rest.pop(0)
    check("fw_version=1.2.4" in find(m["an"], T_TXT, INSTANCE)["txt"], "second re-announcement")
    # goodbye
    s, m = rest.pop(0)
    check(all(r["ttl"] == 0 for r in m["an"]) and len(m["an"]) == 5, "goodbye TTL 0")
    check(not rest, "no packets beyond the expected ones: %d left" % len(rest))

    if corpus:
        os.makedirs(corpus, exist_ok=True)
        seeds = {
            "query-ptr": q_ptr, "query-enum": q_enum, "query-legacy-a": q_legacy,
            "query-legacy-ptr": q_legacy_ptr, "query-qu-srv": q_qu, "query-aaaa": q_aaaa,
            "query-known-answer": q_known, "query-two-compressed": q_two,
        }
        names = ["probe-1", "probe-2", "probe-3", "announce-1", "announce-2", "answer-ptr",
                 "answer-enum", "answer-legacy-a", "answer-legacy-ptr", "answer-qu-srv",
                 "answer-nsec", "answer-two", "reannounce-1", "reannounce-2", "goodbye"]
        for name, s in zip(names, sent):
            seeds[name] = s["pkt"]
        for name, data in seeds.items():
            with open(os.path.join(corpus, name + ".bin"), "wb") as f:
                f.write(data)
    return finish()


def finish():
    failed = len(FAILURES)
    print("%d passed, %d failed" % (CHECKS - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
