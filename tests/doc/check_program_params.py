#!/usr/bin/env python3
"""check_program_params - every parameter a program's manual names exists.

Each program's main file (X/X.c, a second program such as
sendmail/postdrop.c, and the admin command's verb files admin/surel_*.c)
opens with a man-page comment whose PARAMETERS section
("PARAMETERS", "PARAMETERS READ", "PARAMETERS WRITTEN", "CONFIGURATION
PARAMETERS") lists the main.cf parameters it reads. This test fails when
such a section names a parameter that lib/global/params.def does not
declare, so that the manual cannot promise a knob the code does not have.

What counts as a parameter name there: a word of lower-case letters and
digits with at least one underscore (all but six of Postfix's names have
one; the six have no underscore and cannot be told from prose), outside
parentheses (those hold defaults and remarks), not part of a path or a
file name, not <transport>_... (a per-service form), and not the name of
a source file of that program (smtpd_check: a module, not a knob).
Run by CTest as doc_program_parameters; standard library only.
"""
import glob
import os
import re
import sys

TOP = os.environ.get("SUREL_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SECTION_RE = re.compile(r"^\s*\*\s+((?:[A-Z]+ )*PARAMETERS(?: [A-Z]+)*)\s*$")
HEADING_RE = re.compile(r"^\s*\*\s+[A-Z][A-Z /-]+$")
NAME_RE = re.compile(r"(?<![\w/.<>$-])([a-z0-9]+(?:_[a-z0-9]+)+)(?![\w/<>-]|\.\w)")


def declared():
    names = set()
    with open(os.path.join(TOP, "lib", "global", "params.def"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^PARAM\((\w+),", line)
            if m:
                names.add(m.group(1))
    return names


def header(path):
    """The lines of the file's opening comment."""
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            lines.append(line.rstrip("\n"))
            if "*/" in line:
                break
    return lines


def sections(lines):
    """The text of each PARAMETERS section."""
    out, cur = [], None
    for line in lines:
        if SECTION_RE.match(line):
            cur = []
            out.append(cur)
        elif cur is not None and (HEADING_RE.match(line) or "*/" in line):
            cur = None
        elif cur is not None:
            cur.append(re.sub(r"^\s*\*", "", line))
    return [" ".join(s) for s in out]


def strip_parens(text):
    """Text with every (balanced) parenthesised part removed."""
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def program_files():
    """Program files (not lib/, tests/, bench/) whose header has a PARAMETERS section."""
    files = []
    for path in sorted(glob.glob(os.path.join(TOP, "*", "*.c"))):
        folder = os.path.basename(os.path.dirname(path))
        if folder in ("lib", "tests", "bench", "build", "tools"):
            continue
        if sections(header(path)):
            files.append(path)
    return files


def problems():
    known = declared()
    found = []
    for path in program_files():
        folder = os.path.dirname(path)
        for text in sections(header(path)):
            for name in NAME_RE.findall(strip_parens(text)):
                if name in known or os.path.exists(os.path.join(folder, name + ".c")):
                    continue
                found.append("%s: names parameter %s, which params.def does not declare"
                             % (os.path.relpath(path, TOP), name))
    return found


def main():
    files = program_files()
    if not files:
        print("no program files found under %s" % TOP)
        return 1
    found = problems()
    for line in found:
        print(line)
    print("%d program files, %d unknown parameter names" % (len(files), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
