// A modal dialog shell on the native <dialog>: a head with the title and a close button, a
// scrolling body and a footer of buttons. Escape and the × close it; closing removes it.

import { h } from "../dom.js";

// {id, title, body: Node[], footer: Node[], onClose()} → {el, open(parent), close()}
export function modal({ id, title, body, footer, onClose }) {
  const el = h("dialog.modal", { id, "aria-labelledby": `${id}-title` },
    h("div.modal-head", {},
      h("h2", { id: `${id}-title` }, title),
      h("button.modal-x", { type: "button", "aria-label": "Close", title: "Close (Esc)", onclick: () => el.close() }, "×"),
    ),
    h("div.modal-body", {}, body),
    h("div.modal-foot", {}, footer),
  );
  el.addEventListener("close", () => {
    try {
      onClose?.();
    } finally {
      el.remove();
    }
  });
  return {
    el,
    open(parent) {
      parent.append(el);
      el.showModal();
    },
    close() {
      if (el.open) el.close();
      else el.remove();
    },
  };
}
