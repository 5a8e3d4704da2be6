#!/usr/bin/env python3
"""md2man.py - turns the project's manual pages, written in Markdown (docs/*.md), into man(7)
roff, so each page has one source that reads well on a forge and in `man`.

    md2man.py PAGE.md OUT SECTION [DATE]

The Markdown used: a first line `# NAME(S): one-line summary`, `## SECTION` and `### Subsection`
headings, paragraphs, fenced code blocks, `-` lists (with continuation lines), `| tables |`
(rendered as indented rows), and inline `code`, **bold**, *italic* and [text](link) (the text
only).  Anything else is kept as text.
"""
import re
import sys


def esc(text):
    """Escapes roff's special characters in running text."""
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def inline(text):
    """Markdown inline markup to roff fonts."""
    out = []
    pos = 0
    pattern = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|(?<![\w*])\*([^*\s][^*]*)\*(?!\w)|\[([^\]]+)\]\([^)]+\)")
    for m in pattern.finditer(text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + esc(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + esc(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append("\\fI" + esc(m.group(3)) + "\\fR")
        else:
            out.append(esc(m.group(4)))
        pos = m.end()
    out.append(esc(text[pos:]))
    line = "".join(out)
    # a line starting with . or ' would be a roff request
    if line.startswith(".") or line.startswith("'"):
        line = "\\&" + line
    return line


def convert(lines, section, date):
    title = lines[0].lstrip("# ").strip()
    m = re.match(r"([A-Za-z0-9_+.-]+)\((\w+)\)(?:\s*:\s*(.*))?", title)
    if not m:
        raise SystemExit("md2man: the first line must be '# NAME(SECTION): summary', not %r" % title)
    name, sect, summary = m.group(1), m.group(2), m.group(3) or ""
    if sect != section:
        raise SystemExit("md2man: %s says section %s, asked for %s" % (name, sect, section))
    out = ['.\\" Generated from Markdown by docs/md2man.py; edit the .md source.',
           '.TH "%s" "%s" "%s" "FM stack" "FM stack manual"' % (name.upper() if section == "3" and name == "FM" else name, section, date),
           ".nh", ".SH NAME", "%s \\- %s" % (esc(name), inline(summary))]
    i = 1
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.extend(inline(p) for p in para)
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            out.append(".PP")
            out.append(".RS 2")
            out.append(".nf")
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(esc(lines[i]) if not lines[i].startswith(".") else "\\&" + esc(lines[i]))
                i += 1
            out.append(".fi")
            out.append(".RE")
        elif line.startswith("### "):
            flush()
            out.append(".SS " + inline(line[4:].strip()))
        elif line.startswith("## "):
            flush()
            out.append(".SH " + inline(line[3:].strip().upper()))
        elif line.startswith("# "):
            flush()
            out.append(".SH " + inline(line[2:].strip().upper()))
        elif re.match(r"^\s*- ", line):
            flush()
            item = [re.sub(r"^\s*- ", "", line)]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                item.append(lines[i].strip())
            out.append(".IP \\(bu 2")
            out.extend(inline(p) for p in item)
        elif line.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.match(r"^:?-+:?$", c) for c in cells):
                    rows.append(cells)
                i += 1
            i -= 1
            out.append(".PP")
            out.append(".TS")
            out.append("tab(\\t);")
            out.append(" ".join("l" for _ in rows[0]) + ".")
            for r in rows:
                out.append("\t".join("T{\n" + inline(c) + "\nT}" for c in r))
            out.append(".TE")
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit("usage: md2man.py PAGE.md OUT SECTION [DATE]")
    src, dst, section = sys.argv[1:4]
    date = sys.argv[4] if len(sys.argv) == 5 else ""
    with open(src, encoding="utf-8") as f:
        lines = f.read().splitlines()
    text = convert(lines, section, date)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
