// Review in the workspace. Every version of the asset (one annotation per person or model) is
// listed with its state; the other versions are drawn under this person's, faded, or coloured by
// annotator; shapes the versions disagree on (no same-label shape overlapping by IoU ≥ 0.5 in
// every other version) are marked. Reviewers accept or reject a version (with a reason, which
// sends it back for rework) or single shapes, accept or reject the whole asset, build the
// consensus, or take a version into their own. Annotators see why their work came back, with
// the rejected shapes marked.

import * as api from "../api.js";
import { h } from "../dom.js";
import { shapeBounds, toScreen } from "../render/geometry.js";

const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];

function boxIou(a, b) {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

// The keys of shapes that lack a same-label partner (bounds IoU ≥ iou) in some other version.
// versions: Map owner → [{key, shape}]
export function disagreements(versions, iou = 0.5) {
  const out = new Set();
  const owners = [...versions.keys()];
  if (owners.length < 2) return out;
  // each version's shapes with their bounds, worked out once
  const boxed = new Map(owners.map((o) => [o, versions.get(o)
    .filter((it) => it.shape.kind !== "tag")
    .map((it) => ({ key: it.key, label: it.shape.label, b: shapeBounds(it.shape) }))
    .filter((it) => it.b)]));
  for (const o of owners) {
    for (const it of boxed.get(o)) {
      const alone = owners.some((p) => p !== o && !boxed.get(p).some((q) => q.label === it.label && boxIou(it.b, q.b) >= iou));
      if (alone) out.add(it.key);
    }
  }
  return out;
}

export function reviewPanel(editor, { assetId, user, role, onChanged = () => {}, reloadOthers }) {
  const reviewer = ["reviewer", "manager", "owner"].includes(role) || user.is_admin;
  const body = h("div.review-body", { id: "review-body" });
  const el = h("section.panel.review-panel", { id: "review-panel" }, h("h2", {}, "Review"), body);
  let state = null;
  let flagged = new Set();
  let byOwner = false;
  let only = null;
  let rejectedUids = new Set();
  let original = editor.others;
  const myUidsAtLoad = editor.doc.shapes.map((s) => s.uid);

  function versions() {
    const m = new Map();
    m.set(user.username, editor.doc.shapes.filter((s) => s.kind !== "tag").map((s) => ({ key: s.uid, shape: s })));
    for (const it of original) {
      if (!m.has(it.owner)) m.set(it.owner, []);
      m.get(it.owner).push(it);
    }
    if (!m.get(user.username).length) m.delete(user.username);
    return m;
  }

  function restyle() {
    const owners = [...new Set(original.map((it) => it.owner))];
    const color = new Map(owners.map((o, i) => [o, PALETTE[i % PALETTE.length]]));
    const list = original
      .filter((it) => !only || it.owner === only)
      .map((it) => (byOwner ? { ...it, color: color.get(it.owner) } : it));
    editor.setOthers(list);
    flagged = disagreements(versions());
    render();
  }

  async function load() {
    try {
      state = await api.get(`/assets/${assetId}/review`);
    } catch (err) {
      api.report(err);
      return;
    }
    const mine = state.annotations.find((a) => a.owner === user.username);
    rejectedUids = new Set();
    if (mine) for (const v of mine.shape_verdicts || []) if (v.verdict === "reject" && myUidsAtLoad[v.index]) rejectedUids.add(myUidsAtLoad[v.index]);
    flagged = disagreements(versions());
    render();
    editor.invalidate();
  }

  async function verdict(path, payload) {
    try {
      await api.post(path, payload);
      await load();
      onChanged();
    } catch (err) {
      api.report(err);
    }
  }

  function askReason(verb) {
    const r = window.prompt(`Why ${verb}? The annotator reads this.`);
    return r === null ? null : r.trim();
  }

  async function consensus() {
    try {
      const r = await api.post(`/assets/${assetId}/consensus`, {});
      editor.status(`Consensus: ${r.report.kept ?? "?"} shapes kept from ${r.report.clusters ?? "?"} clusters${r.report.ties ? `, ${r.report.ties} label ties` : ""}`);
      original = await reloadOthers();
      restyle();
    } catch (err) {
      api.report(err);
    }
  }

  function render() {
    if (!state) return;
    const mine = state.annotations.find((a) => a.owner === user.username);
    const parts = [];
    if (mine && mine.state === "rejected" && mine.verdict) {
      parts.push(h("div.rework", { id: "rework-banner" },
        h("strong", {}, "Returned for rework"), mine.verdict.reason ? `: ${mine.verdict.reason}` : "",
        rejectedUids.size ? h("div.muted", {}, `${rejectedUids.size} shape${rejectedUids.size > 1 ? "s" : ""} marked on the image`) : null,
        (mine.shape_verdicts || []).filter((v) => v.verdict === "reject" && v.reason).map((v) => h("div.shape-reason", {}, `shape ${v.index + 1}: ${v.reason}`))));
    }
    parts.push(h("div.review-meta.muted", {}, `status ${state.status.replace(/_/g, " ")} · overlap ${state.overlap}${flagged.size ? ` · ${flagged.size} disagreeing shapes` : ""}`));
    parts.push(h("ul.version-list", { id: "version-list" }, state.annotations.map((a) => h("li.version", { dataset: { owner: a.owner, state: a.state } },
      h("div.version-head", {},
        h("strong", {}, a.owner), h("span.chip", {}, a.state), h("span.muted", {}, ` ${a.shape_count} shapes`)),
      a.verdict && a.verdict.reason ? h("div.muted", {}, `${a.verdict.verdict}: ${a.verdict.reason}`) : null,
      reviewer && a.owner !== user.username ? h("div.version-actions", {},
        h("button.link", { type: "button", dataset: { act: "only" }, onclick: () => { only = only === a.owner ? null : a.owner; restyle(); } }, only === a.owner ? "show all" : "show only"),
        h("button.link", { type: "button", dataset: { act: "accept" }, onclick: () => verdict(`/assets/${assetId}/annotations/${encodeURIComponent(a.owner)}/review`, { verdict: "accept", reason: "" }) }, "accept"),
        h("button.link", { type: "button", dataset: { act: "reject" }, onclick: () => {
          const reason = askReason(`send ${a.owner}'s work back`);
          if (reason !== null) verdict(`/assets/${assetId}/annotations/${encodeURIComponent(a.owner)}/review`, { verdict: "reject", reason });
        } }, "reject")) : null))));
    if (reviewer) {
      parts.push(h("div.review-actions", {},
        h("label.check", {}, h("input", { type: "checkbox", id: "colour-by-owner", checked: byOwner, onchange: (e) => { byOwner = e.target.checked; restyle(); } }), " colour by annotator"),
        h("button", { type: "button", id: "consensus-button", title: "Merge the people's versions into the consensus version", onclick: consensus }, "Build consensus"),
        h("button", { type: "button", id: "asset-accept", onclick: () => verdict(`/assets/${assetId}/review`, { verdict: "accept", reason: "" }) }, "Accept image"),
        h("button", { type: "button", id: "asset-reject", onclick: () => {
          const reason = askReason("send this image back");
          if (reason !== null) verdict(`/assets/${assetId}/review`, { verdict: "reject", reason });
        } }, "Reject image")));
    }
    body.replaceChildren(...parts);
  }

  const offOverlay = editor.addOverlay((ctx, view) => {
    const mark = (b, color) => {
      const [x0, y0] = toScreen(view, b[0], b[1]);
      const [x1, y1] = toScreen(view, b[2], b[3]);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.setLineDash([3, 3]);
      ctx.strokeRect(x0 - 4, y0 - 4, x1 - x0 + 8, y1 - y0 + 8);
      ctx.setLineDash([]);
    };
    for (const uid of rejectedUids) {
      const s = editor.doc.byUid(uid);
      const b = s && shapeBounds(s);
      if (b) mark(b, "#ff3b30");
    }
    if (reviewer) {
      for (const it of editor.others) if (flagged.has(it.key)) {
        const b = shapeBounds(it.shape);
        if (b) mark(b, "#ff9500");
      }
    }
  });

  const offChanged = editor.bus.on("changed", () => {
    if (!state || !reviewer) return;
    flagged = disagreements(versions());
  });
  load();
  return { el, reload: load, get flagged() { return flagged; }, destroy: () => { offOverlay(); offChanged(); } };
}
