#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""cross-size.py - firmware/core built for the real targets, with its size budget

usage: cross-size.py FIRMWARE_DIR

Compiles every firmware/core/*.c file freestanding (no libc, no OS headers) with the flags
device builds use,
  xtensa-lx106-elf-gcc -Os -mlongcalls -mtext-section-literals ...   (ESP8266)
  riscv64-unknown-elf-gcc -march=rv32imc_zicsr -mabi=ilp32 -Os ...   (ESP32-C3)
both with -ffunction-sections -fdata-sections and -Wall -Wextra -Werror, and prints each
object's size. Then it links the objects into one image with --gc-sections, keeping only
the API a firmware port calls (DEVICE_API below), and reports per module, from the linker
map, what a device really carries.

The budget applies to that linked ESP8266 image, counted where an ESP8266 keeps it: at most
32 KiB of .text (code and its literal pools, executed from flash through the cache) and
8 KiB of static RAM, which on an ESP8266 is .data + .bss + .rodata -- the chip cannot read
flash byte-wise, so the Arduino core and the RTOS SDK link every constant that is not
explicitly PROGMEM into DRAM (the Arduino build's memory report lists RODATA under
"Variables and constants in RAM"). Crypto is the port's
(ROM or mbedTLS on devices): ota-crypto.c and the HMAC/PBKDF2 functions of ota-auth.c are
reported but not counted. Library routines the core needs from the device's libc/libgcc
(memcpy, 64-bit division ...) are listed, not counted: every firmware links them anyway.

Checks: every file builds warning-free for both targets; both images link; every symbol of
DEVICE_API exists; every core function a port (firmware/port/*) calls is either in
DEVICE_API or in SIM_ONLY with the reason a real device does not need it; the ESP8266
budget. A missing cross compiler is a SKIP (exit 77) with the reason.
"""

import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

# issue 3's budget for the ESP8266 image: .text in flash, .data + .bss + .rodata in DRAM.
# The core is inside it since 2026-11-22 (31828 bytes of .text, from 37795 before the size
# passes); the test fails above it
TEXT_BUDGET = 32 * 1024
RAM_BUDGET = 8 * 1024

WARN = ["-std=c99", "-ffreestanding", "-fno-builtin", "-Wall", "-Wextra", "-Werror",
        "-Wconversion", "-Wno-sign-conversion"]
DEVICE = ["-Os", "-ffunction-sections", "-fdata-sections"]
TARGETS = [
    # Arduino ESP8266 (platform.txt) and ESP8266_RTOS_SDK both build with these
    ("ESP8266 (xtensa-lx106)", "xtensa-lx106-elf", True,
     ["-mlongcalls", "-mtext-section-literals", "-falign-functions=4"]),
    ("ESP32-C3 (rv32imc)", "riscv64-unknown-elf", False,
     ["-march=rv32imc_zicsr", "-mabi=ilp32"]),
]

# what a firmware port calls: the linux-sim device (firmware/port/linux-sim) and the
# ESP-IDF port (firmware/port/esp32). Everything else is linked only when these reach it.
DEVICE_API = [
    # espota receiver
    "ota_espota_init", "ota_espota_set_faults", "ota_espota_set_auth", "ota_espota_on_udp",
    "ota_espota_on_tcp_connected", "ota_espota_on_tcp_closed", "ota_espota_on_tcp_data",
    "ota_espota_poll", "ota_espota_abort", "ota_espota_get_state", "ota_espota_get_received",
    # HTTP update server
    "ota_http_init", "ota_http_accept", "ota_http_on_data", "ota_http_on_close",
    "ota_http_poll", "ota_http_connections", "ota_http_update_running",
    # mDNS responder
    "ota_mdns_init", "ota_mdns_start", "ota_mdns_update", "ota_mdns_stop",
    "ota_mdns_on_packet", "ota_mdns_poll", "ota_mdns_get_state", "ota_mdns_get_hostname",
    "ota_mdns_get_instance",
    # log stream
    "ota_log_init", "ota_log_set_level", "ota_log_printf", "ota_log_vprintf",
    "ota_log_client_add", "ota_log_client_remove", "ota_log_pump", "ota_log_client_dropped",
    "ota_log_format", "ota_log_vformat",
    # A/B slots, the bootloader's choice, partition table
    "ota_slots_init", "ota_slots_app", "ota_slots_running", "ota_slots_set_running",
    "ota_slots_read_otadata", "ota_slots_boot_slot", "ota_slots_next_update_slot",
    "ota_slots_get_state", "ota_slots_verify", "ota_slots_set_boot", "ota_slots_mark_valid",
    "ota_slots_mark_invalid", "ota_slots_rollback_possible", "ota_slots_last_invalid",
    "ota_boot",
    "ota_update_begin", "ota_update_set_md5", "ota_update_write", "ota_update_end",
    "ota_update_abort", "ota_update_slot", "ota_update_written",
    "ota_partition_table_default", "ota_partition_table_read", "ota_partition_table_write",
    "ota_partition_table_write_default",
    # the image parser as a device uses it (over flash)
    "ota_esp_image_parse_reader",
    # the chip id for mDNS TXT "chip=" and /info, and the chip an id names
    "ota_chip_id_string", "ota_chip_from_id",
    # auth set-up (a plain password becomes the stored hash)
    "ota_auth_password_hash", "ota_auth_is_hex",
    # errors and the Updater texts a port's sink reports
    "ota_strerror", "ota_error_id",
    "ota_update_error_from_ota", "ota_update_error_detail", "ota_update_error_text",
    "ota_update_error_format",
    "ota_hex", "ota_lower",
]

# core functions the simulator calls that a device does not: the simulator also plays the
# second-stage bootloader's serial log, parses its command line and builds factory images
# (sim-image.c is not scanned)
SIM_ONLY = {
    "ota_esp_image_parse": "the boot log's segment list: printed by the real bootloader",
    "ota_segment_memory": "the boot log's segment list: printed by the real bootloader",
    "ota_chip_from_string": "the simulator's --chip option (a device knows its chip)",
}
SIM_HOST_FILES = {"sim-image.c"}

# crypto: the port's on a device (ROM MD5/SHA-256, mbedTLS); reported, not budgeted
CRYPTO_MODULES = {"ota-crypto.c"}
CRYPTO_FUNCS = {
    "ota-auth.c": {"ota_hmac_sha256", "ota_pbkdf2_hmac_sha256", "hmac_pads_init",
                   "hmac_with_pads", "pbkdf2_parts"},
}

TOP = int(os.environ.get("CROSS_SIZE_TOP", "12"))
KINDS = ("text", "rodata", "data", "bss")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok: {what}")
        else:
            self.failed += 1
            print(f"FAIL: {what}" + (f"\n{detail}" if detail else ""))
        return ok


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def kind_of(section):
    """which budget an input section counts against; None for what is not loaded"""
    name = section.lstrip(".")
    if name.startswith(("text", "literal")):
        return "text"
    if name.startswith(("rodata", "srodata")):
        return "rodata"
    if name.startswith(("data", "sdata")):
        return "data"
    if name.startswith(("bss", "sbss")) or section == "COMMON":
        return "bss"
    return None


def func_of(section):
    """the function or object an input section holds (-ffunction-sections naming)"""
    if section.startswith((".rodata.str", ".srodata.str")):
        return "(string literals)"
    if section.startswith((".rodata.cst", ".srodata.cst")):
        return "(constants)"
    for prefix in (".text.", ".literal.", ".rodata.", ".srodata.", ".data.", ".sdata.",
                   ".bss.", ".sbss."):
        if section.startswith(prefix):
            # xtensa names a function's strings .rodata.<function>.str1.1
            return re.sub(r"\.str\d+\.\d+$", "", section[len(prefix):])
    return section


def parse_map(path):
    """[(section, size, object)] of every input section placed in the image"""
    with open(path) as f:
        lines = f.read().split("\n")
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        return []
    out = []
    one_line = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)$")
    name_only = re.compile(r"^ (\S+)$")
    addr_line = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)$")
    fill = re.compile(r"^ \*fill\*\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)")
    pending = None
    for line in lines[start:]:
        m = one_line.match(line)
        if m:
            out.append((m.group(1), int(m.group(3), 16), m.group(4)))
            pending = None
            continue
        if pending is not None:
            m = addr_line.match(line)
            if m:
                out.append((pending, int(m.group(2), 16), m.group(3)))
            pending = None
            continue
        m = fill.match(line)
        if m:
            out.append(("*fill*", int(m.group(2), 16), ""))
            continue
        m = name_only.match(line)
        if m and not m.group(1).startswith("*"):
            pending = m.group(1)
    return out


def defined_functions(nm, objs):
    """global functions the core objects define"""
    r = run([nm, "--defined-only", "-g"] + objs)
    syms = set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "T":
            syms.add(parts[2])
    return syms


def port_calls(fw, core_funcs):
    """core functions the ports call"""
    used = {}
    for path in sorted(glob.glob(os.path.join(fw, "port", "**", "*.c"), recursive=True)):
        if os.path.basename(path) in SIM_HOST_FILES:
            continue
        with open(path, errors="replace") as f:
            text = f.read()
        for name in set(re.findall(r"\b(ota_[a-z0-9_]+)\s*\(", text)):
            if name in core_funcs:
                used.setdefault(name, os.path.basename(path))
    return used


def link_image(cc, extra, objs, keep, base):
    """links @objs keeping @keep; returns (ok, stderr, elf, map)"""
    elf, mapfile = base + ".elf", base + ".map"
    link = [cc] + extra + ["-nostdlib", "-nostartfiles", "-Wl,--gc-sections",
                           "-Wl,--unresolved-symbols=ignore-all", "-Wl,-e," + keep[0],
                           "-Wl,-Map," + mapfile, "-o", elf]
    link += ["-Wl,-u," + s for s in keep] + objs
    r = run(link)
    return r.returncode == 0, r.stderr, elf, mapfile


def account(mapfile, tmp, tag):
    """per module {kind: bytes}, per (module, function) code bytes, and the padding"""
    per = {}
    funcs = {}
    fill = 0
    for section, size, obj in parse_map(mapfile):
        if section == "*fill*":
            fill += size
            continue
        kind = kind_of(section)
        if kind is None or size == 0 or not obj.startswith(tmp):
            continue
        mod = module_of(obj, tag)
        func = func_of(section)
        crypto = mod in CRYPTO_MODULES or func in CRYPTO_FUNCS.get(mod, ())
        key = mod + (" [crypto]" if crypto else "")
        per.setdefault(key, dict.fromkeys(KINDS, 0))[kind] += size
        if kind in ("text", "rodata"):
            fkey = (mod, func)
            funcs[fkey] = funcs.get(fkey, 0) + size
    return per, funcs, fill


def budgeted_code(per, fill):
    """code of the core without crypto, padding included"""
    return fill + sum(v["text"] for k, v in per.items()
                      if not k.endswith("[crypto]"))


def compile_all(cc, extra, include, sources, tmp, tag):
    def one(src):
        obj = os.path.join(tmp, f"{tag}-{os.path.basename(src)}.o")
        r = run([cc] + DEVICE + WARN + extra + ["-I", include, "-c", src, "-o", obj])
        return src, obj, r
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(one, sources))


def module_of(obj, tag):
    name = os.path.basename(obj)
    return name[len(tag) + 1:-2] if name.startswith(tag + "-") else name


def report_target(checks, fw, label, prefix, budgeted, extra, sources, tmp):
    cc, size_tool, nm = prefix + "-gcc", prefix + "-size", prefix + "-nm"
    tag = prefix.split("-")[0]
    print(f"\n== {label}")
    results = compile_all(cc, extra, os.path.join(fw, "include"), sources, tmp, tag)
    objs = []
    errors = []
    for src, obj, r in results:
        if r.returncode != 0 or r.stderr.strip():
            errors.append(f"{os.path.basename(src)}:\n{r.stderr}")
        else:
            objs.append(obj)
    checks.check(not errors, f"{label}: every core file builds warning-free",
                  "\n".join(errors))
    if errors:
        return

    # what each object holds in all, whether a device links it or not
    print(f"  per object (everything compiled):")
    print(f"  {'module':<22} {'text+ro':>8} {'.data':>6} {'.bss':>6}")
    tot = [0, 0, 0]
    for obj in objs:
        out = run([size_tool, obj]).stdout.splitlines()[1].split()
        t, d, b = int(out[0]), int(out[1]), int(out[2])
        tot = [tot[0] + t, tot[1] + d, tot[2] + b]
        print(f"  {module_of(obj, tag):<22} {t:>8} {d:>6} {b:>6}")
    print(f"  {'total':<22} {tot[0]:>8} {tot[1]:>6} {tot[2]:>6}")

    core_funcs = defined_functions(nm, objs)
    missing = [s for s in DEVICE_API if s not in core_funcs]
    checks.check(not missing, f"{label}: every DEVICE_API function exists",
                 "  not defined by firmware/core: " + ", ".join(missing))
    used = port_calls(fw, core_funcs)
    if tag == "xtensa":
        unlisted = sorted(f"{n} ({f})" for n, f in used.items()
                          if n not in DEVICE_API and n not in SIM_ONLY)
        checks.check(not unlisted,
                     "every core function the ports call is in DEVICE_API",
                     "  add to DEVICE_API (or SIM_ONLY with a reason): " + ", ".join(unlisted))

    keep = [s for s in DEVICE_API if s in core_funcs]
    ok, err, elf, mapfile = link_image(cc, extra, objs, keep, os.path.join(tmp, tag))
    if not checks.check(ok, f"{label}: the device image links", err):
        return
    per, funcs, fill = account(mapfile, tmp, tag)

    undefined = sorted({line.split()[-1] for line in run([nm, "-u", elf]).stdout.splitlines()
                        if line.strip()})

    # .rodata per module is what each object brought, before the linker merged equal
    # strings, so the sum can be a little above the image's own .rodata (never below)
    print(f"  linked device image (--gc-sections, DEVICE_API kept):")
    print(f"  {'module':<28} {'.text':>7} {'.rodata':>8} {'.data':>6} {'.bss':>6}")
    core = dict.fromkeys(KINDS, 0)
    crypto = dict.fromkeys(KINDS, 0)
    for key in sorted(per):
        v = per[key]
        print(f"  {key:<28} {v['text']:>7} {v['rodata']:>8} {v['data']:>6} {v['bss']:>6}")
        acc = crypto if key.endswith("[crypto]") else core
        for k in KINDS:
            acc[k] += v[k]
    print(f"  {'alignment padding':<28} {fill:>7}")
    core["text"] += fill
    print(f"  {'core (budgeted)':<28} {core['text']:>7} {core['rodata']:>8} {core['data']:>6} "
          f"{core['bss']:>6}")
    print(f"  {'crypto (not budgeted)':<28} {crypto['text']:>7} {crypto['rodata']:>8} "
          f"{crypto['data']:>6} {crypto['bss']:>6}")
    code = core["text"]
    ram = core["data"] + core["bss"] + core["rodata"]
    # cross-check of the map against the image's own section sizes (ESP8266 only: the
    # riscv default script puts .srodata constants into the .sdata output section)
    image = dict.fromkeys(KINDS, 0)
    for line in run([size_tool, "-A", elf]).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and kind_of(parts[0]) is not None:
            image[kind_of(parts[0])] += int(parts[1])
    if budgeted:
        print(f"  {'whole image (size -A)':<28} {image['text']:>7} {image['rodata']:>8} "
              f"{image['data']:>6} {image['bss']:>6}")
    print(f"  core: {code} bytes of code, {core['rodata']} bytes of constants, "
          f"{core['data'] + core['bss']} bytes of variables")
    print("  from the device's libc/libgcc: " + (", ".join(undefined) or "nothing"))
    # for comparison only: what the ports call today, without the rest of DEVICE_API
    today = sorted(n for n in used if n not in SIM_ONLY)
    if today:
        ok, _, _, map2 = link_image(cc, extra, objs, today, os.path.join(tmp, tag + "-ports"))
        if ok:
            per2, _, fill2 = account(map2, tmp, tag)
            print(f"  (for comparison: linked with only the {len(today)} functions the ports "
                  f"call today, the core is {budgeted_code(per2, fill2)} bytes of code)")
    print("  largest functions:")
    for (mod, func), size in sorted(funcs.items(), key=lambda kv: -kv[1])[:TOP]:
        print(f"    {size:>6}  {func} ({mod})")

    if budgeted:
        checks.check(code <= TEXT_BUDGET,
                     f"{label}: core code {code} <= {TEXT_BUDGET} bytes (.text with literals)")
        print(f"  {TEXT_BUDGET - code} bytes left below the {TEXT_BUDGET}-byte budget")
        checks.check(ram <= RAM_BUDGET,
                     f"{label}: core static RAM {ram} <= {RAM_BUDGET} bytes "
                     "(.data + .bss + .rodata, all in DRAM on an ESP8266)")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    fw = sys.argv[1]
    sources = sorted(glob.glob(os.path.join(fw, "core", "*.c")))
    missing = [p + "-gcc" for _, p, _, _ in TARGETS if shutil.which(p + "-gcc") is None]
    if missing:
        print(f"SKIP: {', '.join(missing)} not installed (./run installs gcc-xtensa-lx106 and "
              "gcc-riscv64-unknown-elf where the distribution has them)")
        return 77
    checks = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        for label, prefix, budgeted, extra in TARGETS:
            report_target(checks, fw, label, prefix, budgeted, extra, sources, tmp)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
