// Pure operations on the API's shapes used by the editing tools (no DOM, no state).

export const KINDS = ["tag", "box", "rotated_box", "polygon", "polyline", "points", "skeleton", "ellipse", "mask"];

const movePts = (pts, dx, dy) => pts.map((p) => (p.length > 2 ? [p[0] + dx, p[1] + dy, p[2]] : [p[0] + dx, p[1] + dy]));

// The geometry moved by (dx, dy) image pixels. Masks are moved by mask.js (they need re-encoding).
export function translateGeometry(kind, g, dx, dy) {
  switch (kind) {
    case "box":
      return { ...g, x: g.x + dx, y: g.y + dy };
    case "rotated_box":
    case "ellipse":
      return { ...g, cx: g.cx + dx, cy: g.cy + dy };
    case "polygon":
      return { ...g, points: movePts(g.points || [], dx, dy), holes: (g.holes || []).map((r) => movePts(r, dx, dy)) };
    case "polyline":
    case "points":
    case "skeleton":
      return { ...g, points: movePts(g.points || [], dx, dy) };
    default:
      return g;
  }
}

const round2 = (v) => Math.round(v * 100) / 100;

// Coordinates rounded to 1/100 pixel: what is saved, so a reload draws exactly what was drawn.
export function roundGeometry(kind, g) {
  const r = (pts) => pts.map((p) => (p.length > 2 ? [round2(p[0]), round2(p[1]), p[2]] : [round2(p[0]), round2(p[1])]));
  switch (kind) {
    case "box":
      return { x: round2(g.x), y: round2(g.y), w: round2(g.w), h: round2(g.h) };
    case "rotated_box":
      return { cx: round2(g.cx), cy: round2(g.cy), w: round2(g.w), h: round2(g.h), angle: round2(g.angle) };
    case "ellipse":
      return { cx: round2(g.cx), cy: round2(g.cy), rx: round2(g.rx), ry: round2(g.ry), angle: round2(g.angle) };
    case "polygon":
      return { ...g, points: r(g.points || []), holes: (g.holes || []).map(r) };
    case "polyline":
    case "points":
    case "skeleton":
      return { ...g, points: r(g.points || []) };
    default:
      return g;
  }
}
