// The drawing and editing tools, in toolbar order. Each tool is a module exporting a spec
//   { name, key, title, kinds, cursor, create(editor) → tool }
// and the tool object is a small state machine:
//   down(ev) / move(ev) / up(ev) → true when the tool used the event (ev: see render/scene.js:
//     {x, y} image pixels, {sx, sy} screen, button, shift, alt, ctrl, e)
//   key(e) → true when the tool used the key (offered before the workspace's shortcuts)
//   overlay(ctx, view)  draw the tool's preview and handles in CSS pixels (toScreen(view, x, y))
//   activate() / deactivate() / cancel() → true when there was something to cancel
//   finish() → true when a shape in progress was committed (Enter)
// Tools change the document only through editor.run(command) (commands.js), never the network.

import * as select from "./select.js";
import * as box from "./box.js";
import * as polygon from "./polygon.js";
import * as polyline from "./polyline.js";
import * as rotatedBox from "./rotated-box.js";
import * as ellipse from "./ellipse.js";
import * as points from "./points.js";
import * as skeleton from "./skeleton.js";
import * as brush from "./brush.js";
import * as assist from "./assist.js";
import * as comment from "./comment.js";

export const TOOLS = [select.tool, box.tool, polygon.tool, polyline.tool, rotatedBox.tool, ellipse.tool, points.tool, skeleton.tool, brush.tool, brush.eraser, assist.tool, comment.tool];

export const toolByKey = (key) => TOOLS.find((t) => t.key === key) || null;
