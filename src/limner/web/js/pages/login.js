// The login page: username and password → POST /auth/login (sets the session cookies).
// Errors appear under the form; success emits "auth:login" and main.js moves on.

import * as api from "../api.js";
import { bus } from "../bus.js";
import { h } from "../dom.js";

export function mount(root, { app }) {
  app.setCrumbs([{ text: "Log in" }]);
  const error = h("p.form-error", { role: "alert", id: "login-error" });
  const username = h("input", { name: "username", id: "login-username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { name: "password", id: "login-password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button.primary", { type: "submit" }, "Log in");

  async function onSubmit(e) {
    e.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      const user = await api.post("/auth/login", { username: username.value.trim(), password: password.value });
      bus.emit("auth:login", user);
    } catch (err) {
      error.textContent = api.message(err);
      password.select();
    } finally {
      submit.disabled = false;
    }
  }

  const form = h("form.card.login-card", { onsubmit: onSubmit, novalidate: false },
    h("h1", {}, "Log in to Limner"),
    h("label", { for: "login-username" }, "Username"),
    username,
    h("label", { for: "login-password" }, "Password"),
    password,
    submit,
    error,
    h("p.hint", {}, "Or open the one-time login link that ", h("code", {}, "limner serve"), " prints when it starts."),
  );
  root.append(h("section.page.login-page", {}, form));
  username.focus();
}
