#!/usr/bin/env python3
"""check_layers.py SRC_DIR - FM's layer graph, checked on the sources' #include lines.

  util <- transport, bootstrap <- core <- {tools, shmem-fm, mpi-fm, ga-fm, examples, bench}

(tests/ and bench/micro/, which measures internal building blocks, may look inside.)

A layer includes only its own headers and those of the layers below it; the core sees the
transport layer only through transport/transport.hpp and transport/stack.hpp (the concrete
transports and their private headers stay private), and the bootstrap layer through
bootstrap/bootstrap.hpp.  Inside the core, each part includes only the parts before it:
  wire, handlers, board, idle, fiber, state <- liveness <- recv <- send <- core_ops <- rma <- segment
  <- context <- wireup <- api
Everything above FM uses the public headers (<fm/...>) only.  Prints every violation; exit 1 if
any.
"""
import os
import re
import sys

top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
INC = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')
CORE_ORDER = ["wire", "handlers", "board", "idle", "fiber", "state", "liveness", "recv", "send",
              "core_ops", "rma", "segment", "context", "wireup", "api"]
FM_INTERNAL = ("util/", "transport/", "bootstrap/", "core/")

def allowed(layer, path, inc):
    """None if fine, else the reason."""
    if layer == "util":
        if inc.startswith(("transport/", "bootstrap/", "core/")) or inc == "fm/fm.h":
            return "util is the lowest layer (status codes: <fm/fm_status.h>)"
    elif layer in ("transport", "bootstrap"):
        other = "bootstrap/" if layer == "transport" else "transport/"
        if inc.startswith(("core/", other)):
            return layer + " may use util only"
    elif layer == "core":
        if inc.startswith("transport/") and inc not in ("transport/transport.hpp", "transport/stack.hpp"):
            return "the core sees transports through transport.hpp and stack.hpp only"
        if inc.startswith("bootstrap/") and inc != "bootstrap/bootstrap.hpp":
            return "the core sees the bootstrap through bootstrap.hpp only"
        if inc.startswith("core/"):
            mine = os.path.splitext(os.path.basename(path))[0]
            theirs = os.path.splitext(os.path.basename(inc))[0]
            if mine in CORE_ORDER and theirs in CORE_ORDER and \
               CORE_ORDER.index(theirs) > CORE_ORDER.index(mine):
                return "core part %s may not use the later part %s" % (mine, theirs)
    else:  # above FM
        if inc.startswith(FM_INTERNAL):
            return "above FM only the public headers (<fm/...>) may be used"
    return None

def layer_of(rel):
    parts = rel.split(os.sep)
    if parts[:2] == ["fm", "src"] and len(parts) > 2:
        return parts[2]
    if parts[0] in ("tests",) or parts[:2] == ["bench", "micro"]:
        return None  # tests and the micro-benchmarks may look inside
    return "above"

bad = 0
for root in ("fm", "shmem-fm", "mpi-fm", "ga-fm", "examples", "bench", "coschedule"):
    for d, _, files in os.walk(os.path.join(top, root)):
        for f in files:
            if not f.endswith((".c", ".cpp", ".h", ".hpp")):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, top)
            layer = layer_of(rel)
            if layer is None:
                continue
            with open(path, encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    m = INC.match(line)
                    if not m:
                        continue
                    why = allowed(layer, path, m.group(1))
                    if why:
                        print("%s:%d: #include \"%s\": %s" % (rel, n, m.group(1), why))
                        bad += 1
print("layers: %d violation%s" % (bad, "" if bad == 1 else "s"))
sys.exit(1 if bad else 0)
