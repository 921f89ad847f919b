#!/usr/bin/env python3
"""Renders a terminal capture (`tmux capture-pane -e -p`: text with ANSI SGR escapes) as an SVG
picture: a dark window with a title bar, monospace text on a fixed cell grid, the 16/256/true
colours mapped, bold, italic, underline, reverse and dim. Python 3 stdlib only.

    python3 ansi2svg.py --title 'make run' --cols 120 < capture.txt > out.svg

Every run of same-styled cells is one <tspan> placed at its column (x = col * cell width) with a
textLength, so the grid holds whatever monospace font the viewer substitutes."""
import argparse
import html
import re
import sys
import unicodedata

FONT_SIZE = 14
CELL_W = 8.4          # DejaVu Sans Mono advance at 14px (0.6 em)
CELL_H = 18           # line pitch
PAD = 14              # around the text
BAR_H = 30            # title bar
FG, BG = "#d4d4d4", "#1e1e1e"
# The 16 ANSI colours (a VS Code-like dark palette: readable on BG).
PALETTE16 = ["#1e1e1e", "#f14c4c", "#23d18b", "#e5e510", "#3b8eea", "#d670d6", "#29b8db", "#cccccc",
             "#666666", "#ff6b6b", "#5af78e", "#f5f543", "#6cb6ff", "#e78ee7", "#5fd7ff", "#ffffff"]
SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESC = re.compile(r"\x1b(\[[0-9;:?]*[A-Za-ln-z]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B])")


def color256(n):
    """xterm 256-colour index → #rrggbb."""
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (v, v, v)


class Style:
    """The SGR state in force; each run of text between escapes gets a copy."""
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse")

    def __init__(self):
        self.reset()

    def reset(self):
        """SGR 0: default colours, no attributes."""
        self.fg = self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def copy(self):
        s = Style()
        for k in self.__slots__:
            setattr(s, k, getattr(self, k))
        return s

    def colors(self):
        """(fg, bg) after reverse video and defaults; bg None means the window background."""
        fg, bg = self.fg or FG, self.bg
        if self.reverse:
            fg, bg = bg or BG, fg
        return fg, bg


def extended_color(params, i):
    """Parses 38/48 ;5;N or ;2;R;G;B starting at params[i] (the 38/48); returns (colour, next i)."""
    kind = params[i + 1] if i + 1 < len(params) else None
    if kind == 5 and i + 2 < len(params):
        return color256(params[i + 2]), i + 3
    if kind == 2 and i + 4 < len(params):
        return "#%02x%02x%02x" % tuple(params[i + 2:i + 5]), i + 5
    return None, len(params)  # malformed: ignore the rest of this sequence


def apply_sgr(style, text):
    """Applies one SGR parameter list (e.g. "1;38;5;208") to style in place."""
    # A colon sub-parameter (4:3 curly underline, 38:2::r:g:b) counts by its first field;
    # tmux writes the semicolon forms for colours.
    params = [int(p.split(":")[0] or 0) for p in text.split(";")] if text else [0]
    i = 0
    while i < len(params):
        p = params[i]
        if p == 0:
            style.reset()
        elif p in (1, 2, 3, 4, 7):
            setattr(style, {1: "bold", 2: "dim", 3: "italic", 4: "underline", 7: "reverse"}[p], True)
        elif p == 22:
            style.bold = style.dim = False
        elif p in (23, 24, 27):
            setattr(style, {23: "italic", 24: "underline", 27: "reverse"}[p], False)
        elif 30 <= p <= 37 or 90 <= p <= 97:
            style.fg = PALETTE16[p - 30 if p < 90 else p - 82]
        elif 40 <= p <= 47 or 100 <= p <= 107:
            style.bg = PALETTE16[p - 40 if p < 100 else p - 92]
        elif p in (38, 48, 58):
            color, i = extended_color(params, i)
            if p == 38:
                style.fg = color
            elif p == 48:
                style.bg = color
            continue
        elif p == 39:
            style.fg = None
        elif p == 49:
            style.bg = None
        i += 1


def width(ch):
    """Terminal cells of one character: 2 for wide East Asian/emoji, 0 for combining marks."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse(capture):
    """capture text → list of lines, each a list of runs (col, ncells, text, Style)."""
    lines, style = [], Style()
    for raw in capture.split("\n"):
        raw = OTHER_ESC.sub("", raw.rstrip("\r"))
        runs, col, pos = [], 0, 0
        for m in list(SGR.finditer(raw)) + [None]:
            chunk = raw[pos:m.start() if m else len(raw)]
            cells = sum(width(c) for c in chunk)
            if chunk:
                runs.append((col, cells, chunk, style.copy()))
            col += cells
            if m:
                apply_sgr(style, m.group(1))
                pos = m.end()
        lines.append(runs)
    while lines and not any(r[2].strip() or r[3].colors()[1] for r in lines[-1]):
        lines.pop()  # trailing blank rows of the pane
    return lines


def svg(lines, cols, title):
    rows = max(len(lines), 1)
    w = round(cols * CELL_W + 2 * PAD)
    h = BAR_H + rows * CELL_H + 2 * PAD
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           f'role="img" aria-label="{html.escape(title)}">',
           f'<rect width="{w}" height="{h}" rx="8" fill="{BG}"/>',
           f'<rect width="{w}" height="{BAR_H}" rx="8" fill="#323233"/>',
           f'<rect y="{BAR_H - 8}" width="{w}" height="8" fill="#323233"/>']
    for i, c in enumerate(("#ff5f56", "#ffbd2e", "#27c93f")):
        out.append(f'<circle cx="{PAD + 6 + 20 * i}" cy="{BAR_H / 2}" r="6" fill="{c}"/>')
    out.append(f'<text x="{w / 2}" y="{BAR_H / 2 + 5}" fill="#a0a0a0" text-anchor="middle" '
               f'font-family="sans-serif" font-size="13">{html.escape(title)}</text>')
    texts = []
    for row, runs in enumerate(lines):
        top = BAR_H + PAD + row * CELL_H
        base = top + CELL_H - 5
        for col, cells, chunk, st in runs:
            fg, bg = st.colors()
            x = PAD + col * CELL_W
            if bg:
                out.append(f'<rect x="{x:.1f}" y="{top}" width="{cells * CELL_W:.1f}" '
                           f'height="{CELL_H}" fill="{bg}"/>')
            if not chunk.strip() and not st.underline:
                continue
            attrs = [f'x="{x:.1f}"', f'y="{base}"', f'fill="{fg}"']
            if cells > 1:
                attrs.append(f'textLength="{cells * CELL_W:.1f}" lengthAdjust="spacingAndGlyphs"')
            if st.bold:
                attrs.append('font-weight="bold"')
            if st.italic:
                attrs.append('font-style="italic"')
            if st.underline:
                attrs.append('text-decoration="underline"')
            if st.dim:
                attrs.append('fill-opacity="0.6"')
            texts.append(f'<tspan {" ".join(attrs)}>{html.escape(chunk, quote=False)}</tspan>')
    out.append(f'<text xml:space="preserve" font-family="\'DejaVu Sans Mono\', Menlo, Consolas, '
               f'\'Liberation Mono\', monospace" font-size="{FONT_SIZE}">')
    out.extend(texts)
    out.append("</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--title", default="terminal")
    ap.add_argument("--cols", type=int, default=0, help="window width in cells (default: widest line)")
    args = ap.parse_args()
    lines = parse(sys.stdin.read())
    cols = args.cols or max((r[0] + r[1] for runs in lines for r in runs), default=80)
    sys.stdout.write(svg(lines, cols, args.title))


if __name__ == "__main__":
    main()
