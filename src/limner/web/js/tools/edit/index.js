// Editing plug-ins the select tool asks, in order, when the pointer goes down on or near a
// selected shape. Each exports
//   grab(editor, shape, ev) → drag | null
//     drag = { move(ev) → command | null, up(ev) → command | null, cursor? }
//     (commands from one drag share a mergeKey, so the drag is one undo step)
//   hover(editor, shape, ev) → cursor string | null   (what the pointer would grab here)
//   overlay(ctx, view, shape, editor)                  draw the shape's handles
// Plug-ins hold no state between drags.

import * as vertices from "./vertices.js";
import * as transform from "./transform.js";

export const EDITORS = [vertices.plugin, transform.plugin];
