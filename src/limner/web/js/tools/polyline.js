// Polyline: click points, or hold Shift and drag to draw freehand; Enter or a double click
// finishes it (at least two points). Drawing, snapping and welding work as for polygons.

import { pathTool } from "./polygon.js";

export const tool = pathTool({
  name: "polyline",
  key: "l",
  title: "Polyline: click points, or hold Shift and drag to draw freehand; Enter or a double click finishes it; Backspace removes the last point",
  icon: "∿",
  kind: "polyline",
  closed: false,
  min: 2,
});
