"""Pictures of a state machine: Mermaid text, SVG and PNG, with retries and catches visible.

* Mermaid (``flowchart TD``): every state a node, Task nodes annotated with their retries
  (``retry 6+2, <= 137 s``), Catch edges dashed and labelled with the errors they catch,
  Map and Parallel states as subgraphs.
* SVG and PNG are drawn from one layered layout computed here (no Graphviz): SVG as text,
  PNG with Pillow (``pip install cdk-lambdaless[diagrams]``).
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdaless.retry import worst_case_seconds


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
V_GAP = 44
LANE = 12
HEADER = 6

_FILL = {
    "Task": "#e0f2fe",
    "Choice": "#fef9c3",
    "Fail": "#fee2e2",
    "Succeed": "#dcfce7",
    "Map": "#f5f3ff",
    "Parallel": "#f5f3ff",
    "marker": "#334155",
}
_STROKE = {"Task": "#0369a1", "Choice": "#a16207", "Fail": "#b91c1c", "Succeed": "#15803d"}
CATCH_COLOR = "#b91c1c"
EDGE_COLOR = "#334155"
RETRY_COLOR = "#b45309"


@dataclass
class Shape:
    """A drawing primitive in diagram coordinates."""

    kind: str  # rect, circle, text, line
    points: list[tuple[float, float]]
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
    """A laid-out node: its size, then (after placing) its position and drawing."""

    name: str
    state: Mapping[str, Any]
    w: float
    h: float
    lines: list[str]
    inner: list[Layout] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0


@dataclass(frozen=True)
class Route:
    """An edge and how it is drawn: straight ``down``, or along a ``left``/``right`` lane."""

    source: str
    target: str
    label: str
    kind: str  # next, choice, catch
    side: str
    lane: int


@dataclass
class Layout:
    """A scope laid out in layers, in its own coordinates (origin top-left)."""

    boxes: dict[str, Box]
    w: float
    h: float
    routes: list[Route]
    body_right: float

    def left_lanes(self) -> int:
        return sum(r.side == "left" for r in self.routes)


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


def layout(definition: Mapping[str, Any]) -> Layout:
    """Layered layout: each state one layer below its furthest forward predecessor."""
    states: Mapping[str, Mapping[str, Any]] = definition.get("States", {})
    boxes = {name: _box(name, st) for name, st in states.items()}
    boxes["(start)"] = Box("(start)", {"Type": "marker"}, 16, 16, [])
    boxes["(end)"] = Box("(end)", {"Type": "marker"}, 16, 16, [])
    edges = [("(start)", str(definition.get("StartAt")), "", "next"), *_edges(states)]
    graph: dict[str, list[str]] = {n: [] for n in boxes}
    for source, target, _, _ in edges:
        if target in graph:
            graph[source].append(target)
    # DFS from the start: order of discovery, and back edges (to a state on the stack).
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    on_stack: set[str] = set()
    seen: set[str] = set()

    def visit(node: str) -> None:
        seen.add(node)
        on_stack.add(node)
        order.append(node)
        for target in graph[node]:
            if target in on_stack:
                back.add((node, target))
            elif target not in seen and target != "(end)":
                visit(target)
        on_stack.discard(node)

    visit("(start)")
    order.extend(n for n in boxes if n not in seen and n != "(end)")
    order.append("(end)")
    layer = dict.fromkeys(boxes, 0)
    for _ in range(len(boxes)):
        changed = False
        for source, targets in graph.items():
            for target in targets:
                if (source, target) in back:
                    continue
                if layer[target] < layer[source] + 1:
                    layer[target] = layer[source] + 1
                    changed = True
        if not changed:
            break
    layer["(end)"] = max(layer[n] for n in boxes if n != "(end)") + 1
    # Fail states last in their layer, so the main flow stays on the left.
    order.sort(key=lambda n: boxes[n].state.get("Type") == "Fail")
    layers: dict[int, list[str]] = {}
    for node in order:
        layers.setdefault(layer[node], []).append(node)
    # Routes: adjacent forward edges go straight down; longer forward edges take a lane on the
    # left; Catch edges and loops take a lane on the right (with their labels).
    routes: list[Route] = []
    left = right = 0
    label_w = 0.0
    for source, target, label, kind in edges:
        if target not in boxes:
            continue
        forward = (source, target) not in back and layer[target] > layer[source]
        if kind != "catch" and forward and layer[target] == layer[source] + 1:
            routes.append(Route(source, target, label, kind, "down", 0))
        elif kind != "catch" and forward:
            left += 1
            routes.append(Route(source, target, label, kind, "left", left))
        else:
            right += 1
            label_w = max(label_w, _text_width(label) * 0.85)
            routes.append(Route(source, target, label, kind, "right", right))
    rows = [layers[i] for i in sorted(layers)]
    left_margin = LANE * left + (LANE if left else 0)
    right_margin = LANE * right + (LANE + label_w if right else 0)
    body = max(sum(boxes[n].w for n in row) + H_GAP * (len(row) - 1) for row in rows)
    y = 0.0
    for row in rows:
        row_w = sum(boxes[n].w for n in row) + H_GAP * (len(row) - 1)
        x = left_margin + (body - row_w) / 2
        row_h = max(boxes[n].h for n in row)
        for n in row:
            box = boxes[n]
            box.x, box.y = x, y + (row_h - box.h) / 2
            x += box.w + H_GAP
        y += row_h + V_GAP
    return Layout(boxes, left_margin + body + right_margin, y - V_GAP, routes, left_margin + body)


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
        a, b = lay.boxes[route.source], lay.boxes[route.target]
        dashed = route.kind == "catch"
        color = CATCH_COLOR if dashed else EDGE_COLOR
        ax, ay, bx, by = ox + a.x, oy + a.y, ox + b.x, oy + b.y
        label_at: tuple[float, float]
        if route.side == "down":
            start, end = (ax + a.w / 2, ay + a.h), (bx + b.w / 2, by)
            mid = (start[1] + end[1]) / 2
            points = [start, (start[0], mid), (end[0], mid), end]
            label_at = (max(start[0], end[0]) + 6, mid - 4)
        elif route.side == "left":
            lane = ox + LANE * (lay.left_lanes() - route.lane + 1) - LANE / 2
            sy, ey = ay + a.h / 2, by + b.h / 2
            points = [(ax, sy), (lane, sy), (lane, ey), (bx, ey)]
            label_at = (lane + 4, sy - 4)
        else:
            lane = ox + lay.body_right + LANE * route.lane
            sy = ay + a.h * (0.25 + 0.25 * ((route.lane - 1) % 3))
            ey = by + b.h / 2
            points = [(ax + a.w, sy), (lane, sy), (lane, ey), (bx + b.w, ey)]
            label_at = (lane + 4, sy - 4)
        out.append(Shape("line", points, stroke=color, dashed=dashed, arrow=True))
        if route.label:
            out.append(
                Shape(
                    "label",
                    [label_at],
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
