#!/usr/bin/env python3
"""check_abi.py - GA-FM's armci.h and message.h against Debian's (the ARMCI-MPI headers Debian's
Global Arrays was compiled with), and libarmci-fm against both:
  1. abi_layout.c built with each set of headers prints the same sizes, offsets and constants;
  2. every function either header declares has the same prototype in the other (types compared
     after preprocessing, parameter names dropped);
  3. libarmci-fm.so defines every function Debian's headers declare.
usage: check_abi.py OUR_INCLUDE MPI_INCLUDE LIBARMCI_FM [DEBIAN_INCLUDE]"""
import os
import re
import subprocess
import sys
import tempfile

ours, mpi_inc, lib = sys.argv[1:4]
debian = sys.argv[4] if len(sys.argv) > 4 else "/usr/include"
here = os.path.dirname(os.path.abspath(__file__))
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def layout(inc, tmp, name):
    exe = os.path.join(tmp, name)
    # Debian's are in /usr/include: found when no -I names another armci.h
    flags = ["-I" + inc] if inc != "/usr/include" else []
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror"] + flags + ["-I" + mpi_inc, "-o", exe,
                    os.path.join(here, "abi_layout.c")], check=True)
    return subprocess.run([exe], check=True, capture_output=True, text=True).stdout


def protos(inc):
    src = "#include <armci.h>\n#include <message.h>\n"
    flags = ["-I" + inc] if inc != "/usr/include" else []
    out = subprocess.run(["gcc", "-E", "-P"] + flags + ["-I" + mpi_inc, "-"], input=src,
                         capture_output=True, text=True, check=True).stdout
    out = re.sub(r"\s+", " ", out)
    res = {}
    for m in re.finditer(r"(?:^|(?<=[;}]))\s*((?:extern )?[A-Za-z_][\w\s\*]*?)\b((?:P?ARMCI|p?armci)_\w+)\s*\(([^;{}()]*)\)\s*;", out):
        ret = re.sub(r"\bextern\b", "", m.group(1)).strip()
        params = []
        for p in m.group(3).split(","):
            p = p.strip()
            if p in ("", "void"):
                continue
            arr = p.endswith("]")
            p = re.sub(r"\[\s*\d*\s*\]$", "", p).strip()
            # drop the parameter name: the last identifier when more than the type remains
            toks = re.findall(r"[A-Za-z_]\w*|\*", p)
            if len(toks) > 1 and re.match(r"[A-Za-z_]\w*$", toks[-1]) and toks[-1] not in (
                    "int", "long", "char", "double", "float", "void", "MPI_Comm", "armci_size_t",
                    "armci_hdl_t", "armci_giov_t", "ARMCI_Group", "armci_domain_t"):
                toks = toks[:-1]
            t = " ".join(toks).replace(" *", "*")
            params.append(t + ("*" if arr else ""))
        res[m.group(2)] = (re.sub(r"\s+", " ", ret).replace(" *", "*"), tuple(params))
    return res


with tempfile.TemporaryDirectory() as tmp:
    a = layout(ours, tmp, "ours")
    b = layout(debian, tmp, "debian")
    if a != b:
        fail("sizes, offsets or constants differ (GA-FM left, Debian right):")
        for x, y in zip(a.splitlines(), b.splitlines()):
            print(("   " if x == y else " ! ") + x + ("" if x == y else "   |   " + y))
    else:
        print("layout: %d lines identical" % len(a.splitlines()))

po, pd = protos(ours), protos(debian)
if len(pd) < 150:
    fail("only %d declarations found in Debian's headers (parser?)" % len(pd))
for name in sorted(set(pd) | set(po)):
    if name not in po:
        fail("%s: declared by Debian's headers, not by GA-FM's" % name)
    elif name not in pd:
        fail("%s: declared by GA-FM's headers, not by Debian's" % name)
    elif po[name] != pd[name]:
        fail("%s: GA-FM %s%s, Debian %s%s" % (name, po[name][0], po[name][1], pd[name][0], pd[name][1]))
print("prototypes: %d compared" % len(pd))

nm = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
defined = {l.split()[-1] for l in nm.splitlines() if len(l.split()) >= 3 and l.split()[1] in "TWi"}
missing = sorted(n for n in pd if n not in defined)
for n in missing:
    fail("%s: declared by Debian's headers, not defined by %s" % (n, os.path.basename(lib)))
print("symbols: %d of %d defined" % (len(pd) - len(missing), len(pd)))
print("check_abi: %s" % ("PASS" if failures == 0 else "%d failures" % failures))
sys.exit(1 if failures else 0)
