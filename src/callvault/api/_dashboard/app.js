// callvault dashboard: a read-only view over the guarded JSON API of this origin.
// The token comes from the paste field or the URL fragment (#token=..., which browsers
// never send to the server), lives only in sessionStorage and is removed from the URL at
// once. Everything the server returns is written with textContent, never as HTML.
"use strict";
(() => {
  const KEY = "callvault.token";
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function takeFragmentToken() {
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get("token");
    if (token) {
      sessionStorage.setItem(KEY, token);
      history.replaceState(null, "", location.pathname + location.search);
    }
  }

  // Display only: the server verifies the token; this just names who is signed in.
  function claims(token) {
    if (token.startsWith("cvk_")) return { role: "API key" };
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch (_) {
      return {};
    }
  }

  async function api(token, path) {
    const response = await fetch(path, {
      headers: { authorization: "Bearer " + token, accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
    const body = await response.json().catch(() => ({}));
    return { status: response.status, body };
  }

  function keysTable(keys) {
    const table = el("table");
    const head = table.createTHead().insertRow();
    for (const title of ["Key id", "State", "Primary version", "Min decrypt version",
                         "Versions", "Created", "Last rotation"]) {
      head.appendChild(el("th", title));
    }
    const body = table.createTBody();
    for (const key of keys) {
      const row = body.insertRow();
      row.dataset.keyId = key.key_id;
      row.appendChild(el("td", key.key_id, "id key-id"));
      row.appendChild(el("td", key.state, "state-" + key.state));
      row.appendChild(el("td", key.primary_version, "primary"));
      row.appendChild(el("td", key.min_decrypt_version));
      row.appendChild(el("td", key.versions.join(", ")));
      row.appendChild(el("td", key.created_at));
      row.appendChild(el("td", key.rotated_at));
    }
    return table;
  }

  async function showTenant(token, tenant) {
    const section = el("section", undefined, "tenant");
    section.dataset.tenant = tenant;
    section.appendChild(el("h2", tenant, "tenant-id"));
    $("tenants").appendChild(section);
    const { status, body } = await api(token, "/v1/tenants/" + encodeURIComponent(tenant) + "/keys");
    if (status === 200) {
      section.appendChild(keysTable(body.keys));
    } else {
      const message = (body.error && body.error.message) || "HTTP " + status;
      section.appendChild(el("p", "Keys: " + message, "error"));
    }
  }

  async function load() {
    const token = sessionStorage.getItem(KEY);
    $("tenants").replaceChildren();
    $("status").textContent = "";
    $("status").className = "";
    if (!token) {
      document.body.dataset.state = "signed-out";
      $("signin").hidden = false;
      $("session").hidden = true;
      return;
    }
    document.body.dataset.state = "loading";
    $("signin").hidden = true;
    $("session").hidden = false;
    const who = claims(token);
    $("who").textContent = "Signed in as " + (who.role || "?") +
      (who.tenant ? " of " + who.tenant : "") +
      (who.exp ? ", expires " + new Date(who.exp * 1000).toISOString() : "");
    $("connection").textContent = "Connection: " + location.protocol.replace(":", "") +
      " to " + location.host + (window.isSecureContext ? " (secure context)" : "");
    let tenants = [];
    const listed = await api(token, "/v1/tenants");
    if (listed.status === 200) {
      tenants = listed.body.tenants.map((t) => t.id);
    } else if (listed.status === 403 && who.tenant) {
      tenants = [who.tenant];  // a tenant-bound role may not list tenants: show its own
    } else {
      const message = (listed.body.error && listed.body.error.message) || "HTTP " + listed.status;
      $("status").textContent = "Tenants: " + message;
      $("status").className = "error";
      document.body.dataset.state = listed.status === 401 ? "unauthenticated" : "error";
      return;
    }
    for (const tenant of tenants) await showTenant(token, tenant);
    document.body.dataset.state = "ready";
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      if (value) sessionStorage.setItem(KEY, value);
      load();
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      load();
    });
    takeFragmentToken();
    load();
  });
})();
