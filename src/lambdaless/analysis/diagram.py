"""Pictures of a state machine: Mermaid text, SVG and PNG, with retries and catches visible.

* Mermaid (``flowchart TD``): every state a node, Task nodes annotated with their retries
  (``retry 6+2, <= 137 s``), Catch edges dashed and labelled with the errors they catch,
  Map and Parallel states as subgraphs.
* SVG and PNG are drawn from one layered layout: igraph's Sugiyama layout orders the layers and
  the states in them (``pip install cdk-lambdaless[diagrams]``: igraph and Pillow ship wheels
  with their libraries, so no system package is needed); :func:`layout` turns it into boxes and
  edges that never pass through a box they do not connect. SVG is text, PNG is drawn with
  Pillow. Mermaid needs nothing.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdaless.analysis.asl import worst_case_seconds


def _short_error(name: str) -> str:
    return name.split(".")[-1].removesuffix("Exception") if name != "States.ALL" else "ALL"


def catch_label(catcher: Mapping[str, Any]) -> str:
    """``catch Throttling, ModelNotReady +2`` for a Catch entry."""
    errors = [_short_error(str(e)) for e in catcher.get("ErrorEquals", [])]
    shown = ", ".join(errors[:2]) + (f" +{len(errors) - 2}" if len(errors) > 2 else "")
    return f"catch {shown}"


def retry_label(state: Mapping[str, Any]) -> str:
    """``retry 6+2, <= 137 s`` (retry attempts per retrier, worst-case back-off)."""
    retriers = state.get("Retry") or []
    if not retriers:
        return ""
    wait, _ = worst_case_seconds(retriers)
    counts = "+".join(str(int(r.get("MaxAttempts", 3))) for r in retriers)
    return f"retry {counts}, <= {wait:g} s"


def node_lines(name: str, state: Mapping[str, Any]) -> list[str]:
    """Text lines of a node: name, type (with the service for Tasks), retries."""
    kind = str(state.get("Type", ""))
    if kind == "Task":
        resource = str(state.get("Resource", "")).rsplit(":::", 1)[-1]
        kind = resource or "Task"
    elif kind == "Map":
        limit = state.get("MaxConcurrency")
        kind = "Map" + (f" (max {limit} at once)" if limit else " (up to 40 at once)")
    lines = [name, kind]
    retry = retry_label(state)
    if retry:
        lines.append(retry)
    return lines


def choice_label(choice: Mapping[str, Any]) -> str:
    """A short text for a Choice rule."""
    text = str(choice.get("Condition") or choice.get("Variable") or "")
    text = text.removeprefix("{%").removesuffix("%}").strip()
    return text if len(text) <= 28 else text[:26] + ".."


# -- Mermaid --------------------------------------------------------------------------------------
def _mid(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _mtext(text: str) -> str:
    return text.replace('"', "'").replace("<", "&lt;").replace(">", "&gt;")


def _mermaid_scope(definition: Mapping[str, Any], prefix: str, out: list[str], indent: str) -> None:
    states: Mapping[str, Mapping[str, Any]] = definition.get("States", {})
    for name, state in states.items():
        node = _mid(prefix, name)
        label = "<br/>".join(_mtext(line) for line in node_lines(name, state))
        kind = state.get("Type")
        inner = state.get("Branches") or (
            [state.get("ItemProcessor") or state.get("Iterator")] if kind == "Map" else []
        )
        if inner:
            out.append(f'{indent}subgraph {node}["{label}"]')
            out.append(f"{indent}  direction TB")
            for i, branch in enumerate(inner):
                sub = f"{node}_{i}_"
                out.append(
                    f'{indent}  {sub}start(("start")) --> {_mid(sub, str(branch["StartAt"]))}'
                )
                _mermaid_scope(branch, sub, out, indent + "  ")
            out.append(f"{indent}end")
        elif kind == "Choice":
            out.append(f'{indent}{node}{{"{label}"}}')
        elif kind in ("Succeed", "Fail"):
            out.append(f'{indent}{node}(["{label}"])')
        else:
            out.append(f'{indent}{node}["{label}"]')
        if kind == "Fail":
            out.append(f"{indent}class {node} fail")
        if state.get("Retry"):
            out.append(f"{indent}class {node} retrying")
    for name, state in states.items():
        node = _mid(prefix, name)
        if "Next" in state:
            out.append(f"{indent}{node} --> {_mid(prefix, str(state['Next']))}")
        elif state.get("End") or state.get("Type") == "Succeed":
            out.append(f'{indent}{node} --> {prefix}end(("end"))')
        for choice in state.get("Choices", []):
            label = _mtext(choice_label(choice))
            out.append(f'{indent}{node} -->|"{label}"| {_mid(prefix, str(choice["Next"]))}')
        if "Default" in state:
            out.append(f'{indent}{node} -->|"default"| {_mid(prefix, str(state["Default"]))}')
        for catcher in state.get("Catch", []):
            label = _mtext(catch_label(catcher))
            out.append(f'{indent}{node} -.->|"{label}"| {_mid(prefix, str(catcher["Next"]))}')


def mermaid(definition: Mapping[str, Any]) -> str:
    """Mermaid ``flowchart`` text of a definition."""
    out = ["flowchart TD", '  start(("start")) --> ' + _mid("s_", str(definition["StartAt"]))]
    _mermaid_scope(definition, "s_", out, "  ")
    out.append("  classDef retrying stroke:#b45309,stroke-width:2px")
    out.append("  classDef fail fill:#fee2e2,stroke:#b91c1c")
    return "\n".join(out) + "\n"


# -- layout ---------------------------------------------------------------------------------------
FONT_SIZE = 12
CHAR_WIDTH = 7.3  # monospace at 12 px
LINE_HEIGHT = 16
PAD = 10
H_GAP = 28
V_GAP = 48
HEADER = 6
LOOP = 14  # how far a self-loop reaches right of its box
DUMMY_W = 12  # the slot an edge takes where it crosses a layer
UNIT = 48  # pixels per unit of igraph's x

_FILL = {
    "Task": "#e0f2fe",
    "Choice": "#fef9c3",
    "Fail": "#fee2e2",
    "Succeed": "#dcfce7",
    "Map": "#f3e8ff",
    "Parallel": "#f3e8ff",
    "marker": "#1e293b",
}
_STROKE = {"Task": "#0369a1", "Choice": "#a16207", "Fail": "#b91c1c", "Succeed": "#15803d"}
CATCH_COLOR = "#b91c1c"
EDGE_COLOR = "#334155"
RETRY_COLOR = "#b45309"

Point = tuple[float, float]
_Slot = str | tuple[int, int]  # a box by name, or an edge's crossing of a layer


@dataclass
class Shape:
    """A drawing primitive in diagram coordinates."""

    kind: str  # rect, diamond, circle, text, label, line
    points: list[Point]
    text: str = ""
    fill: str = "none"
    stroke: str = EDGE_COLOR
    dashed: bool = False
    arrow: bool = False
    bold: bool = False
    size: int = FONT_SIZE
    anchor: str = "middle"
    width: float = 1.4


@dataclass
class Box:
    """A laid-out node: its size, then (after placing) its top-left corner."""

    name: str
    state: Mapping[str, Any]
    w: float
    h: float
    lines: list[str]
    inner: list[Layout] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether ``(x, y)`` lies strictly inside the box shrunk by ``margin``."""
        return (
            self.x + margin < x < self.x + self.w - margin
            and self.y + margin < y < self.y + self.h - margin
        )


@dataclass(frozen=True)
class Route:
    """An edge, drawn as a polyline from ``source`` to ``target``."""

    source: str
    target: str
    label: str
    kind: str  # next, choice, catch
    points: tuple[Point, ...]
    label_at: Point


@dataclass
class Layout:
    """A scope laid out in layers, in its own coordinates (origin top-left)."""

    boxes: dict[str, Box]
    w: float
    h: float
    routes: list[Route]


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _box(name: str, state: Mapping[str, Any]) -> Box:
    lines = node_lines(name, state)
    kind = state.get("Type")
    inner: list[Layout] = []
    if kind == "Parallel":
        inner = [layout(b) for b in state.get("Branches", [])]
    elif kind == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        inner = [layout(processor)] if processor else []
    text_w = max(_text_width(line) for line in lines) + 2 * PAD
    text_h = len(lines) * LINE_HEIGHT + 2 * PAD - 4
    if not inner:
        if kind == "Choice":
            return Box(name, state, text_w + 2 * PAD, text_h + PAD, lines)
        return Box(name, state, text_w, text_h, lines)
    inner_w = sum(i.w for i in inner) + H_GAP * (len(inner) - 1)
    inner_h = max(i.h for i in inner)
    return Box(
        name, state, max(text_w, inner_w + 2 * PAD), text_h + HEADER + inner_h + PAD, lines, inner
    )


def _edges(states: Mapping[str, Mapping[str, Any]]) -> Iterator[tuple[str, str, str, str]]:
    for name, state in states.items():
        if "Next" in state:
            yield name, str(state["Next"]), "", "next"
        elif state.get("End") or state.get("Type") == "Succeed":
            yield name, "(end)", "", "next"
        for choice in state.get("Choices", []):
            yield name, str(choice["Next"]), choice_label(choice), "choice"
        if "Default" in state:
            yield name, str(state["Default"]), "default", "choice"
        for catcher in state.get("Catch", []):
            yield name, str(catcher["Next"]), catch_label(catcher), "catch"


def _sugiyama(
    names: list[str], edges: list[tuple[str, str]]
) -> tuple[list[tuple[float, int]], list[list[tuple[float, int]]]]:
    """igraph's layered (Sugiyama) layout: each node's ``(x, layer)``, and where each edge
    crosses the layers between its ends, in order from source to target.

    igraph runs twice: first to layer the graph (cycles broken by reversing a small feedback arc
    set, then longest-path layering), then on the graph with one point per edge per crossed
    layer, every edge pointing down, to order each layer and place it. (The crossing points
    come from that second run: igraph 1.0's ``edge_routing`` is wrong for some graphs.)
    """
    try:
        import igraph  # type: ignore[import-untyped]
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "SVG and PNG diagrams need igraph: pip install 'cdk-lambdaless[diagrams]' "
            "(or use --format mermaid)"
        ) from error
    index = {name: i for i, name in enumerate(names)}
    pairs = [(index[a], index[b]) for a, b in edges]
    first = igraph.Graph(n=len(names), edges=pairs, directed=True).layout_sugiyama()
    layers = [round(y) for _, y in first.coords]
    count = len(names)
    links: list[tuple[int, int]] = []
    chains: list[list[int]] = []  # the crossing points of each edge, source to target
    for a, b in pairs:
        step = 1 if layers[b] > layers[a] else -1
        chain = list(range(count, count + abs(layers[b] - layers[a]) - 1))
        count += len(chain)
        layers += [layers[a] + step * (i + 1) for i in range(len(chain))]
        path = [a, *chain, b]
        links += [(u, v) if step > 0 else (v, u) for u, v in itertools.pairwise(path)]
        chains.append(chain)
    second = igraph.Graph(n=count, edges=links, directed=True).layout_sugiyama(
        layers=layers, maxiter=200
    )
    xs = [float(x) for x, _ in second.coords]
    nodes = [(xs[i], layers[i]) for i in range(len(names))]
    return nodes, [[(xs[i], layers[i]) for i in chain] for chain in chains]


def layout(definition: Mapping[str, Any]) -> Layout:
    """A layered layout of one scope (Map and Parallel states hold their own).

    igraph layers the graph (cycles broken by reversing a small feedback arc set) and orders
    each layer to reduce crossings, an edge that spans several layers taking a point in each
    (see :func:`_sugiyama`). Positions then follow one rule that keeps every edge out of every
    box: within a layer each box, and each edge crossing it, has a slot of its own, and between
    layers there are no boxes at all. An edge runs straight down (or up) its own slot inside a
    layer and bends only in the gaps between layers.
    """
    states: Mapping[str, Mapping[str, Any]] = definition.get("States", {})
    boxes = {name: _box(name, st) for name, st in states.items()}
    boxes["(start)"] = Box("(start)", {"Type": "marker"}, 16, 16, [])
    boxes["(end)"] = Box("(end)", {"Type": "marker"}, 16, 16, [])
    edges = [
        edge
        for edge in [("(start)", str(definition.get("StartAt")), "", "next"), *_edges(states)]
        if edge[1] in boxes
    ]
    names = list(boxes)
    looped = {a for a, b, _, _ in edges if a == b}
    out_degree = {name: sum(a == name and b != name for a, b, _, _ in edges) for name in boxes}
    links = [(a, b) for a, b, _, _ in edges if a != b]
    nodes, bends = _sugiyama(names, links)
    where = dict(zip(names, nodes, strict=True))
    # Every occupant of a layer, in igraph's order: a box by name, or an edge's crossing by
    # (edge index, layer). Each gets a slot of its own: at igraph's x when there is room, else
    # pushed right until it is H_GAP clear of its left neighbour (igraph can place two
    # crossings at the same x).
    occupants: dict[int, list[tuple[float, int, _Slot, float]]] = {}
    for order, (name, (x, level)) in enumerate(where.items()):
        width = boxes[name].w + (2 * LOOP if name in looped else 0)
        occupants.setdefault(level, []).append((x, order, name, width))
    for number, bend in enumerate(bends):
        for x, level in bend:
            occupants.setdefault(level, []).append(
                (x, len(where) + number, (number, level), DUMMY_W)
            )
    pixel: dict[_Slot, float] = {}
    for row in occupants.values():
        row.sort(key=lambda item: item[:2])
        right = -math.inf
        for x, _, key, width in row:
            pixel[key] = max(x * UNIT, right + width / 2)
            right = pixel[key] + width / 2 + H_GAP
    left = min(pixel[key] - w / 2 for row in occupants.values() for _, _, key, w in row)
    pixel = {key: px - left for key, px in pixel.items()}
    width = max(pixel[key] + w / 2 for row in occupants.values() for _, _, key, w in row)
    # Layers: as tall as their tallest box, V_GAP apart.
    top: dict[int, float] = {}
    bottom: dict[int, float] = {}
    y = 0.0
    for level in sorted(occupants):
        tall = max((boxes[k].h for _, _, k, _ in occupants[level] if isinstance(k, str)), default=0)
        top[level], bottom[level] = y, y + tall
        for _, _, key, _ in occupants[level]:
            if isinstance(key, str):
                box = boxes[key]
                box.x = pixel[key] - box.w / 2
                box.y = y + (tall - box.h) / 2
        y += tall + V_GAP
    routes: list[Route] = []
    crossings = iter(enumerate(bends))
    fanout: dict[str, int] = {}
    for source, target, label, kind in edges:
        a, b = boxes[source], boxes[target]
        if source == target:
            right = a.x + a.w
            points: tuple[Point, ...] = (
                (right, a.y + a.h * 0.3),
                (right + LOOP, a.y + a.h * 0.3),
                (right + LOOP, a.y + a.h * 0.7),
                (right, a.y + a.h * 0.7),
            )
            routes.append(Route(source, target, label, kind, points, (right + LOOP + 3, a.y)))
            continue
        s_level, t_level = where[source][1], where[target][1]
        number, cross = next(crossings)
        down = t_level > s_level
        # Edges back up leave and enter a quarter to the right, apart from those going down.
        cx = pixel[source] + (0 if down else a.w / 4)
        tcx = pixel[target] + (0 if down else b.w / 4)
        path: list[Point] = (
            [(cx, a.y + a.h), (cx, bottom[s_level])] if down else [(cx, a.y), (cx, top[s_level])]
        )
        for _, level in sorted(cross, key=lambda point: point[1], reverse=not down):
            ends = [top[level], bottom[level]]
            path += [(pixel[number, level], y) for y in (ends if down else ends[::-1])]
        path += (
            [(tcx, top[t_level]), (tcx, b.y)]
            if down
            else [(tcx, bottom[t_level]), (tcx, b.y + b.h)]
        )
        # A label sits on the edge's first stretch between layers, edges of one state at
        # different heights so that their labels do not overlap.
        fanout[source] = fanout.get(source, 0) + 1
        share = fanout[source] / (out_degree[source] + 1)
        (x0, y0), (x1, y1) = path[1], path[2]
        label_at = (x0 + (x1 - x0) * share + 4, y0 + (y1 - y0) * share)
        routes.append(Route(source, target, label, kind, tuple(_dedupe(path)), label_at))
    width = max([width, *(r.label_at[0] + _text_width(r.label) * 0.85 for r in routes if r.label)])
    return Layout(boxes, width, y - V_GAP, routes)


def _dedupe(points: list[Point]) -> list[Point]:
    """The polyline without repeated points (a box as tall as its layer)."""
    return [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]


def _draw(lay: Layout, ox: float, oy: float, out: list[Shape]) -> None:
    for box in lay.boxes.values():
        x, y = ox + box.x, oy + box.y
        kind = str(box.state.get("Type"))
        if kind == "marker":
            filled = box.name == "(start)"
            out.append(
                Shape(
                    "circle",
                    [(x + 8, y + 8), (8, 8)],
                    fill=_FILL["marker"] if filled else "#ffffff",
                    stroke=_FILL["marker"],
                    width=2.5,
                )
            )
            continue
        stroke = RETRY_COLOR if box.state.get("Retry") else _STROKE.get(kind, "#6d28d9")
        shape = "diamond" if kind == "Choice" else "rect"
        out.append(
            Shape(
                shape,
                [(x, y), (x + box.w, y + box.h)],
                fill=_FILL.get(kind, "#ffffff"),
                stroke=stroke,
                width=2.4 if box.state.get("Retry") else 1.4,
            )
        )
        ty = y + PAD + FONT_SIZE - 1 + (PAD / 2 if kind == "Choice" else 0)
        for i, line in enumerate(box.lines):
            color = RETRY_COLOR if line.startswith("retry ") else "#0f172a"
            out.append(
                Shape(
                    "text",
                    [(x + box.w / 2, ty + i * LINE_HEIGHT)],
                    text=line,
                    stroke=color,
                    bold=i == 0,
                    size=FONT_SIZE if i == 0 else FONT_SIZE - 1,
                )
            )
        if box.inner:
            inner_y = y + len(box.lines) * LINE_HEIGHT + 2 * PAD - 4 + HEADER
            inner_w = sum(i.w for i in box.inner) + H_GAP * (len(box.inner) - 1)
            ix = x + (box.w - inner_w) / 2
            for inner in box.inner:
                _draw(inner, ix, inner_y, out)
                ix += inner.w + H_GAP
    for route in lay.routes:
        dashed = route.kind == "catch"
        color = CATCH_COLOR if dashed else EDGE_COLOR
        points = [(ox + x, oy + y) for x, y in route.points]
        out.append(Shape("line", points, stroke=color, dashed=dashed, arrow=True))
        if route.label:
            out.append(
                Shape(
                    "label",
                    [(ox + route.label_at[0], oy + route.label_at[1])],
                    text=route.label,
                    stroke=color,
                    size=FONT_SIZE - 2,
                    anchor="start",
                )
            )


def shapes(definition: Mapping[str, Any], title: str = "") -> tuple[list[Shape], float, float]:
    """Every shape of the diagram and the canvas size."""
    lay = layout(definition)
    top = 34.0 if title else 12.0
    out: list[Shape] = []
    if title:
        out.append(
            Shape(
                "text", [(16, 22)], text=title, bold=True, size=14, anchor="start", stroke="#0f172a"
            )
        )
    _draw(lay, 16, top, out)
    legend = "orange border: retries (attempts per retrier, worst-case back-off); red dashed: Catch"
    out.append(
        Shape(
            "text", [(16, top + lay.h + 26)], text=legend, size=10, anchor="start", stroke="#475569"
        )
    )
    width = max(lay.w + 32, _text_width(legend) + 32, _text_width(title) * 1.2 + 32)
    return out, width, top + lay.h + 40


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(definition: Mapping[str, Any], *, title: str = "") -> str:
    """An SVG picture of a definition."""
    drawn, width, height = shapes(definition, title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, Menlo, '
        'Consolas, monospace">',
        "<defs>",
        *(
            f'<marker id="arrow-{i}" markerWidth="10" markerHeight="8" refX="9" refY="4" '
            f'orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="{color}"/></marker>'
            for i, color in enumerate((EDGE_COLOR, CATCH_COLOR))
        ),
        "</defs>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    for s in drawn:
        if s.kind == "rect":
            (x0, y0), (x1, y1) = s.points
            parts.append(
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
                f'rx="6" fill="{s.fill}" stroke="{s.stroke}" stroke-width="{s.width}"/>'
            )
        elif s.kind == "diamond":
            (x0, y0), (x1, y1) = s.points
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            d = 14
            pts = f"{x0 + d},{y0} {x1 - d},{y0} {x1},{my} {x1 - d},{y1} {x0 + d},{y1} {x0},{my}"
            parts.append(
                f'<polygon points="{pts}" fill="{s.fill}" stroke="{s.stroke}" '
                f'stroke-width="{s.width}"/>'
            )
            del mx
        elif s.kind == "circle":
            (cx, cy), (r, _) = s.points
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{s.fill}" '
                f'stroke="{s.stroke}" stroke-width="{s.width}"/>'
            )
        elif s.kind == "line":
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in s.points)
            marker = 1 if s.stroke == CATCH_COLOR else 0
            dash = ' stroke-dasharray="6,4"' if s.dashed else ""
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="{s.stroke}" '
                f'stroke-width="{s.width}"{dash} marker-end="url(#arrow-{marker})"/>'
            )
        else:
            (x, y) = s.points[0]
            weight = ' font-weight="bold"' if s.bold else ""
            parts.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="{s.size}" fill="{s.stroke}" '
                f'text-anchor="{s.anchor}"{weight}>{_esc(s.text)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(definition: Mapping[str, Any], *, title: str = "", scale: float = 2.0) -> bytes:
    """A PNG picture of a definition, drawn with Pillow (the ``diagrams`` extra)."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "PNG diagrams need Pillow: pip install 'cdk-lambdaless[diagrams]'"
        ) from error
    drawn, width, height = shapes(definition, title)
    image = Image.new("RGB", (int(width * scale), int(height * scale)), "white")
    pen = ImageDraw.Draw(image)
    fonts: dict[tuple[int, bool], Any] = {}

    def font(size: int, bold: bool) -> Any:
        key = (size, bold)
        if key not in fonts:
            names = ["DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"]
            for name in names:
                try:
                    fonts[key] = ImageFont.truetype(name, int(size * scale))
                    break
                except OSError:
                    continue
            else:
                fonts[key] = ImageFont.load_default(size=int(size * scale))
        return fonts[key]

    def pt(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] * scale, p[1] * scale)

    for s in drawn:
        width_px = max(1, round(s.width * scale))
        if s.kind == "rect":
            pen.rounded_rectangle(
                [pt(s.points[0]), pt(s.points[1])],
                radius=6 * scale,
                fill=s.fill,
                outline=s.stroke,
                width=width_px,
            )
        elif s.kind == "diamond":
            (x0, y0), (x1, y1) = s.points
            my, d = (y0 + y1) / 2, 14
            poly = [(x0 + d, y0), (x1 - d, y0), (x1, my), (x1 - d, y1), (x0 + d, y1), (x0, my)]
            pen.polygon([pt(p) for p in poly], fill=s.fill, outline=s.stroke, width=width_px)
        elif s.kind == "circle":
            (cx, cy), (r, _) = s.points
            pen.ellipse(
                [pt((cx - r, cy - r)), pt((cx + r, cy + r))],
                fill=s.fill,
                outline=s.stroke,
                width=width_px,
            )
        elif s.kind == "line":
            pts = [pt(p) for p in s.points]
            for a, b in itertools.pairwise(pts):
                if s.dashed:
                    _dashed(pen, a, b, s.stroke, width_px, 6 * scale, 4 * scale)
                else:
                    pen.line([a, b], fill=s.stroke, width=width_px)
            _arrow_head(pen, pts[-2], pts[-1], s.stroke, 9 * scale)
        else:
            x, y = pt(s.points[0])
            anchor = "ms" if s.anchor == "middle" else "ls"
            pen.text((x, y), s.text, fill=s.stroke, font=font(s.size, s.bold), anchor=anchor)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _dashed(
    pen: Any,
    a: tuple[float, float],
    b: tuple[float, float],
    color: str,
    width: int,
    dash: float,
    gap: float,
) -> None:
    length = ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5
    if not length:
        return
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    t = 0.0
    while t < length:
        e = min(t + dash, length)
        pen.line(
            [(a[0] + ux * t, a[1] + uy * t), (a[0] + ux * e, a[1] + uy * e)],
            fill=color,
            width=width,
        )
        t = e + gap


def _arrow_head(
    pen: Any, a: tuple[float, float], b: tuple[float, float], color: str, size: float
) -> None:
    length = ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 or 1.0
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    left = (b[0] - ux * size - uy * size * 0.45, b[1] - uy * size + ux * size * 0.45)
    right = (b[0] - ux * size + uy * size * 0.45, b[1] - uy * size - ux * size * 0.45)
    pen.polygon([b, left, right], fill=color)
