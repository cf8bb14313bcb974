#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-inspect.py - espfleet-cli inspect as a process: text, JSON, exit codes, hostile files
#
# usage: test-inspect.py ESPFLEET_CLI FLEET_TEST_IMAGE_GEN

import hashlib
import json
import os
import subprocess
import sys
import tempfile

CLI, GEN = sys.argv[1], sys.argv[2]
failures = []
passed = 0


def run(*args, timeout=60):
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", NO_COLOR="1")
    p = subprocess.run([CLI, *args], capture_output=True, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}", file=sys.stderr)


def gen(tmp, kind, *extra):
    path = os.path.join(tmp, kind + ".bin")
    subprocess.run([GEN, kind, path, *extra], check=True, timeout=30)
    return path


def inspect_json(*args):
    rc, out, err = run("inspect", "--json", *args)
    try:
        return rc, json.loads(out), err
    except json.JSONDecodeError as e:
        return rc, None, f"not JSON ({e}): {out!r} {err!r}"


with tempfile.TemporaryDirectory() as tmp:
    # a valid ESP32-S3 application
    s3 = gen(tmp, "esp32s3-app", "--version", "4.5.6", "--project", "lamp")
    rc, out, err = run("inspect", s3)
    check("valid-text-rc", rc == 0, f"rc={rc} {err}")
    check("valid-text-chip", "ESP32-S3" in out, out)
    check("valid-text-version", "4.5.6" in out and "lamp" in out, out)
    check("valid-text-no-escape", "\033" not in out, "colour codes with NO_COLOR set")
    rc, doc, err = inspect_json(s3)
    data = open(s3, "rb").read()
    check("valid-json-rc", rc == 0, f"rc={rc} {err}")
    if doc is not None:
        check("json-schema", doc.get("schema") == "espfleet-inspect/1", str(doc.get("schema")))
        check("json-usable", doc.get("usable") is True, str(doc.get("findings")))
        check("json-chip", doc.get("chip") == "esp32s3", str(doc.get("chip")))
        check("json-md5", doc["file"]["md5"] == hashlib.md5(data).hexdigest(), doc["file"]["md5"])
        check("json-sha256", doc["file"]["sha256"] == hashlib.sha256(data).hexdigest(), "")
        check("json-size", doc["file"]["size"] == len(data), str(doc["file"]["size"]))
        check("json-app", doc["app"]["version"] == "4.5.6" and doc["app"]["project"] == "lamp",
              str(doc.get("app")))
        check("json-segments", len(doc["segments"]) >= 3, str(doc["segments"]))
        check("json-no-compat", doc["compatibility"] is None, str(doc["compatibility"]))
        check("json-sha-ok", any(f["id"] == "sha256-ok" for f in doc["findings"]),
              str(doc["findings"]))
    else:
        check("valid-json-parse", False, err)

    # the same image against boards: exact match, other family, unknown board
    rc, doc, err = inspect_json(s3, "--board", "esp32s3")
    check("compat-ok", rc == 0 and doc and doc["compatibility"]["verdict"] == "ok", f"{rc} {doc}")
    rc, doc, err = inspect_json(s3, "--board", "nodemcuv2")
    check("compat-refuse-rc", rc == 1, f"rc={rc}")
    check("compat-refuse", doc and doc["compatibility"]["verdict"] == "refuse"
          and doc["compatibility"]["reasons"][0]["id"] == "chip-mismatch", str(doc))
    rc, out, err = run("inspect", s3, "--board", "nodemcuv2")
    check("compat-refuse-text", rc == 1 and "refused" in out and "ESP8266" in out, out)
    rc, doc, err = inspect_json(s3, "--board", "acme_widget_v7")
    check("compat-unknown-board", rc == 0 and doc and
          doc["compatibility"]["verdict"] == "warning", f"{rc} {doc and doc['compatibility']}")
    rc, doc, err = inspect_json(s3, "--slot-size", "100")
    check("compat-slot", rc == 1 and doc and doc["compatibility"]["reasons"][0]["id"] ==
          "too-large-for-slot", f"{rc} {doc and doc['compatibility']}")

    # ESP8266: the Arduino .bin and its gzip
    ard = gen(tmp, "arduino-bin")
    rc, doc, err = inspect_json(ard, "--board", "d1_mini")
    check("arduino", rc == 0 and doc and doc["kind"] == "esp8266-arduino" and
          doc["chip"] == "esp8266", f"{rc} {doc and doc['findings']}")
    gz = gen(tmp, "arduino-bin-gz")
    rc, doc, err = inspect_json(gz, "--board", "\"ESP8266_WEMOS_D1MINILITE\"")
    check("gzip-esp8266", rc == 0 and doc and doc["compressed"] is True and
          doc["compatibility"]["verdict"] in ("ok", "warning"), f"{rc} {doc}")
    rc, doc, err = inspect_json(gz, "--chip", "esp32")
    check("gzip-esp32-refused", rc == 1 and doc and doc["compatibility"]["verdict"] == "refuse",
          f"{rc} {doc and doc['compatibility']}")

    # a corrupted image: exit 1, the cause named
    bad = os.path.join(tmp, "bad.bin")
    b = bytearray(data)
    b[300] ^= 0x01
    open(bad, "wb").write(b)
    rc, out, err = run("inspect", bad)
    check("corrupt-rc", rc == 1, f"rc={rc}")
    check("corrupt-text", "Checksum mismatch: image is corrupted" in out, out)
    rc, doc, err = inspect_json(bad)
    ids = [f["id"] for f in doc["findings"]] if doc else []
    check("corrupt-json", "checksum-mismatch" in ids and "sha256-mismatch" in ids, str(ids))

    # truncated: the segment is named
    trunc = os.path.join(tmp, "trunc.bin")
    open(trunc, "wb").write(data[:400])
    rc, out, err = run("inspect", trunc)
    check("truncated", rc == 1 and "runs past the end of the file" in out, out)

    # not an image at all
    mz = os.path.join(tmp, "setup.exe")
    open(mz, "wb").write(b"MZ\x90\x00" + bytes(100))
    rc, out, err = run("inspect", mz)
    check("not-esp", rc == 1 and "not an ESP firmware image (first byte 0x4D" in out.replace(
        "Not an", "not an"), out)

    # empty, missing, directory, random, huge
    empty = os.path.join(tmp, "empty.bin")
    open(empty, "wb").close()
    rc, out, err = run("inspect", empty)
    check("empty", rc == 1 and "empty" in out, f"{rc} {out} {err}")
    rc, out, err = run("inspect", os.path.join(tmp, "missing.bin"))
    check("missing", rc == 1 and "does not exist" in err, f"{rc} {err}")
    rc, doc, err = inspect_json(os.path.join(tmp, "missing.bin"))
    check("missing-json", rc == 1 and doc and doc["usable"] is False and "error" in doc, str(doc))
    rc, out, err = run("inspect", tmp)
    check("directory", rc == 1 and "not a regular file" in err, f"{rc} {err}")
    rnd = os.path.join(tmp, "random.bin")
    open(rnd, "wb").write(os.urandom(1024 * 1024))
    rc, out, err = run("inspect", rnd)
    check("random", rc == 1 and err == "" and "Findings" in out, f"{rc} {err}")
    huge = os.path.join(tmp, "huge.bin")
    with open(huge, "wb") as f:
        f.write(os.urandom(1024 * 1024))
        f.truncate(100 * 1000 * 1000)
    rc, out, err = run("inspect", huge)
    check("huge", rc == 1 and "is this the right file" in err, f"{rc} {err}")
    if os.geteuid() != 0:
        locked = os.path.join(tmp, "locked.bin")
        open(locked, "wb").write(data)
        os.chmod(locked, 0)
        rc, out, err = run("inspect", locked)
        check("unreadable", rc == 1 and "permission denied" in err, f"{rc} {err}")

    # strings from the file can not drive the terminal
    evil = gen(tmp, "esp32-app", "--version", "\x1b[2J\x1b[31mpwned", "--project", "x\x07y")
    rc, out, err = run("inspect", evil)
    check("escape-sanitized", "\x1b" not in out and "\x07" not in out and "\\x1b" in out, repr(out))

    # usage errors
    rc, out, err = run("inspect")
    check("usage-no-file", rc == 2 and "no image file given" in err, f"{rc} {err}")
    rc, out, err = run("inspect", s3, s3)
    check("usage-two-files", rc == 2, f"rc={rc}")
    rc, out, err = run("inspect", "--frobnicate", s3)
    check("usage-bad-option", rc == 2, f"rc={rc}")
    rc, out, err = run("frobnicate")
    check("usage-bad-command", rc == 2 and "unknown command" in err, f"{rc} {err}")
    rc, out, err = run()
    check("usage-nothing", rc == 2, f"rc={rc}")
    rc, out, err = run("--help")
    check("help", rc == 0 and "inspect" in out, f"{rc} {out}")

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
