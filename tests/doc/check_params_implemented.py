#!/usr/bin/env python3
"""check_params_implemented - every params.def parameter is read, or marked.

issue 10 (finding 3): parameters were declared, shown by `surel conf`, and
read by nothing, so an administrator setting them got no effect and no
word. Now each line of lib/global/params.def is one of:

  PARAM(name, ...)         some program's C code reads it: P_name occurs in
                           a .c or .h file outside tests/ (and outside the
                           table's own plumbing), or it is the per-transport
                           form <transport>_<x> of a read default_<x>
                           (local_destination_recipient_limit: qmgr reads it
                           through config_int_for(), by name);
  PARAM_UNIMPL(name, ...)  declared for Postfix compatibility, read by
                           nothing (the master and `surel check` warn when
                           it is set): P_name must then occur in no program,
                           its risk must be WARN or SECURITY and its doc
                           must say "not implemented".

This test fails on any line that is neither, so the table cannot promise a
knob the code does not have, nor call a read parameter ignored.
Run by CTest as doc_params_implemented; standard library only.
"""
import os
import re
import sys

TOP = os.environ.get("SUREL_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP_DIRS = {"tests", "build", ".git", "doc", "tools", "bench"}
PARAM_RE = re.compile(r"^PARAM\((\w+),")
UNIMPL_RE = re.compile(r'^PARAM_UNIMPL\((\w+),\s*\w+,\s*(?:"(?:[^"\\]|\\.)*"|\w+),'
                       r'\s*-?\d+,\s*-?\d+,\s*"(?:[^"\\]|\\.)*",\s*(\w+),\s*("(?:[^"\\]|\\.)*")\)$')


def table():
    implemented, unimpl = [], []
    with open(os.path.join(TOP, "lib", "global", "params.def"), encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = PARAM_RE.match(line)
            if m:
                implemented.append(m.group(1))
            elif line.startswith("PARAM_UNIMPL("):
                m = UNIMPL_RE.match(line)
                if not m:
                    sys.exit("params.def:%d: cannot read this PARAM_UNIMPL line" % lineno)
                unimpl.append((m.group(1), m.group(2), m.group(3), lineno))
    return implemented, unimpl


def program_sources():
    """The text of every C file a program is built from (not tests/)."""
    texts = []
    for root, dirs, files in os.walk(TOP):
        rel = os.path.relpath(root, TOP)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")]
        for name in files:
            if name.endswith((".c", ".h")):
                with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                    texts.append(f.read())
    return "\n".join(texts)


def main():
    implemented, unimpl = table()
    used = set(re.findall(r"\bP_(\w+)\b", program_sources()))
    problems = []
    for name in implemented:
        if name in used:
            continue
        if any(name.endswith("_" + d[len("default_"):]) and d in used
               for d in implemented if d.startswith("default_")):
            continue
        problems.append("%s: declared with PARAM but no program reads P_%s; implement it "
                        "or mark it PARAM_UNIMPL" % (name, name))
    for name, risk, doc, lineno in unimpl:
        if name in used:
            problems.append("params.def:%d: %s is marked PARAM_UNIMPL but a program reads "
                            "P_%s: make it a PARAM" % (lineno, name, name))
        if risk not in ("WARN", "SECURITY"):
            problems.append("params.def:%d: %s: risk %s is neither WARN nor SECURITY"
                            % (lineno, name, risk))
        if "not implemented" not in doc:
            problems.append("params.def:%d: %s: its doc must say \"not implemented\""
                            % (lineno, name))
    for p in problems:
        print(p)
    print("%d parameters read, %d declared but not implemented, %d problems"
          % (len(implemented), len(unimpl), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
