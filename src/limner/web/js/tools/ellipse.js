// Ellipse: drag the box around it from corner to corner (Shift: a circle). While an ellipse is
// selected, its handles resize it and the round one turns it, from this tool or the select tool.

import { createDragTool } from "./drag-shape.js";

export const tool = {
  name: "ellipse",
  key: "e",
  title: "Ellipse: drag its bounding box from corner to corner (Shift: a circle)",
  icon: "◯",
  kinds: ["ellipse"],
  cursor: "crosshair",
  create(editor) {
    return createDragTool(editor, {
      kind: "ellipse",
      square: true,
      make: (b) => ({ cx: b.x + b.w / 2, cy: b.y + b.h / 2, rx: b.w / 2, ry: b.h / 2, angle: 0 }),
      outline(ctx, view, b) {
        ctx.beginPath();
        ctx.ellipse((b.x + b.w / 2) * view.scale + view.tx, (b.y + b.h / 2) * view.scale + view.ty,
          (b.w / 2) * view.scale, (b.h / 2) * view.scale, 0, 0, 2 * Math.PI);
        ctx.stroke();
      },
    });
  },
};
