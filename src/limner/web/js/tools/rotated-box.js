// Rotated box: drag a box from corner to corner, then turn it with the round handle above its
// top edge (and resize it with the square ones) — from this tool while it is selected, or from
// the select tool. Shift + drag: a square. New boxes start unturned (angle 0).

import { createDragTool } from "./drag-shape.js";

export const tool = {
  name: "rotated_box",
  key: "r",
  title: "Rotated box: drag a box, then turn it by its round handle",
  icon: "◇",
  kinds: ["rotated_box"],
  cursor: "crosshair",
  create(editor) {
    return createDragTool(editor, {
      kind: "rotated_box",
      square: true,
      make: (b) => ({ cx: b.x + b.w / 2, cy: b.y + b.h / 2, w: b.w, h: b.h, angle: 0 }),
      outline(ctx, view, b) {
        ctx.strokeRect(b.x * view.scale + view.tx, b.y * view.scale + view.ty, b.w * view.scale, b.h * view.scale);
      },
    });
  },
};
