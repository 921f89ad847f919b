"""svgplot.py — a small line-plot writer for the benchmark figures (python3 stdlib only, no
matplotlib): numeric or log2/log10 x axis, one polyline with markers per series, a legend and
optional horizontal reference lines (targets). Output is a standalone SVG file."""
import math
from xml.sax.saxutils import escape

W, H = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 170, 40, 50
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _nice_ticks(lo, hi, n=5):
    """About n round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _fmt(v):
    return f"{v:g}" if abs(v) < 1e5 else f"{v:.0e}"


def line_plot(path, title, xlabel, ylabel, series, xlog=None, hlines=()):
    """Writes an SVG to `path`. series: [(name, [(x, y), ...])]; points with y None are skipped.
    xlog: None, 2 or 10 (log scale base for x). hlines: [(y, label)] dashed reference lines."""
    pts = [(x, y) for _, s in series for x, y in s if y is not None]
    xs = [x for x, _ in pts]
    ys = [y for _, y in pts] + [y for y, _ in hlines] + [0]
    tx = (lambda v: math.log(v, xlog)) if xlog else (lambda v: v)
    x_lo, x_hi = tx(min(xs)), tx(max(xs))
    yticks = _nice_ticks(0, max(ys) * 1.05)
    y_hi = yticks[-1]
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def sx(v):
        return LEFT + (tx(v) - x_lo) / ((x_hi - x_lo) or 1) * pw

    def sy(v):
        return TOP + ph - v / (y_hi or 1) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
           f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
    for v in yticks:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" '
                   f'stroke="#ddd"/><text x="{LEFT - 6}" y="{sy(v) + 4:.1f}" '
                   f'text-anchor="end">{_fmt(v)}</text>')
    for v in sorted(set(xs)):
        out.append(f'<text x="{sx(v):.1f}" y="{TOP + ph + 18}" text-anchor="middle">{_fmt(v)}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 10}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(18,{TOP + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(ylabel)}</text>')
    for y, label in hlines:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
                   f'stroke="#888" stroke-dasharray="5,4"/><text x="{LEFT + pw - 4}" '
                   f'y="{sy(y) - 4:.1f}" text-anchor="end" fill="#666">{escape(label)}</text>')
    for i, (name, s) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        good = [(x, y) for x, y in s if y is not None]
        if good:
            line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good)
            out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
            out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"/>'
                    for x, y in good]
        ly = TOP + 10 + i * 20
        out.append(f'<line x1="{LEFT + pw + 12}" x2="{LEFT + pw + 32}" y1="{ly}" y2="{ly}" '
                   f'stroke="{color}" stroke-width="2"/><text x="{LEFT + pw + 38}" '
                   f'y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
