#!/usr/bin/env python3
"""check_functions.py — no function in src/ runs over MAX_LINES lines or takes
more than MAX_PARAMS parameters (README, Architecture: house rules).

A small scanner, no compiler needed: comments, strings and preprocessor lines
are blanked, then every top-level brace block whose header has a parameter
list is a function definition; its length is the number of lines from the
line of its name to its closing brace, its parameters the top-level commas
of the list. Exceptions (BLAS-style kernels, a function being rewritten) are
listed in tools/function_limits.txt as `path function|* lines|params  # why`;
an exception that no longer applies is reported too (except a whole-file
`*` one), so the list stays short and true.

usage: tools/check_functions.py [--list] [--root DIR]
  --list  print every function with its lines and parameters
  --root  check DIR/src against DIR/tools/function_limits.txt (tests)
exit status 0 when every function is within limits, 1 otherwise.
"""
import os
import re
import sys

MAX_LINES = 100
MAX_PARAMS = 8
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def blank(text):
    """Comments, string and char literals, preprocessor lines -> spaces
    (newlines kept, so line numbers stay)."""
    out, i, n = [], 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#" :
            j = i
            while j < n and (text[j] != "\n" or text[j - 1] == "\\"):
                j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j]) + c)
            i = j + 1
            continue
        if c == "\n":
            at_line_start = True
        elif not c.isspace():
            at_line_start = False
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    """(name, first line, number of lines, number of parameters)"""
    text = blank(open(path, encoding="utf-8").read())
    res, depth, head_start = [], 0, 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "{":
            if depth == 0:
                head = text[head_start:i]
                m = re.search(r"([A-Za-z_]\w*)\s*\(", head)
                if m and "=" not in head[:m.start()] and not re.search(
                        r"\b(struct|union|enum)\s*\w*\s*$", head.strip()):
                    # the parameter list: from the name's '(' to its match
                    p, d = m.end(), 1
                    while p < len(head) and d:
                        d += {"(": 1, ")": -1}.get(head[p], 0)
                        p += 1
                    plist = head[m.end():p - 1]
                    pd, commas = 0, 0
                    for ch in plist:
                        pd += {"(": 1, ")": -1, "[": 1, "]": -1}.get(ch, 0)
                        commas += ch == "," and pd == 0
                    nparams = 0 if plist.strip() in ("", "void") else commas + 1
                    # end of the body
                    j, d = i + 1, 1
                    while j < len(text) and d:
                        d += {"{": 1, "}": -1}.get(text[j], 0)
                        j += 1
                    first = text.count("\n", 0, head_start + m.start()) + 1
                    last = text.count("\n", 0, j - 1) + 1
                    res.append((m.group(1), first, last - first + 1, nparams))
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                head_start = i + 1
        elif c == ";" and depth == 0:
            head_start = i + 1
        i += 1
    return res


def main():
    root = ROOT
    if "--root" in sys.argv:
        root = sys.argv[sys.argv.index("--root") + 1]
    os.chdir(root)
    allowed = {}
    limits = "tools/function_limits.txt"
    if os.path.exists(limits):
        for line in open(limits, encoding="utf-8"):
            f = line.split("#", 1)[0].split()
            if len(f) >= 3:
                allowed[(f[0], f[1], f[2])] = False
    bad = 0
    for d, _, files in sorted(os.walk("src")):
        for fn in sorted(files):
            if not fn.endswith(".c"):
                continue
            path = os.path.join(d, fn)
            for name, line, nlines, nparams in functions(path):
                if "--list" in sys.argv:
                    print(f"{path}:{line}: {name} {nlines} lines, {nparams} params")
                for what, val, lim in (("lines", nlines, MAX_LINES), ("params", nparams, MAX_PARAMS)):
                    if val <= lim:
                        continue
                    key = next((k for k in ((path, name, what), (path, "*", what))
                                if k in allowed), None)
                    if key:
                        allowed[key] = True
                        continue
                    bad += 1
                    print(f"{path}:{line}: {name}: {val} {what} (limit {lim})")
    for (path, name, what), used in allowed.items():
        if not used and name != "*":
            bad += 1
            print(f"{limits}: {path} {name} {what}: no longer needed, remove the line")
    print(f"check-functions: {'ok' if not bad else str(bad) + ' over the limits'}"
          f" (<= {MAX_LINES} lines, <= {MAX_PARAMS} parameters)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
