// callvault dashboard: a read-only view over the guarded JSON API of this origin.
// The token comes from the paste field or the URL fragment (#token=..., which browsers
// never send to the server), lives only in sessionStorage and is removed from the URL at
// once. Everything the server returns is data (tenant ids, scan targets, finding messages
// may hold anything) and is written with textContent, never as HTML.
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

  function say(text, cls) {
    $("status").textContent = text;
    $("status").className = cls || "";
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

  function errorText(result) {
    return (result.body.error && result.body.error.message) || "HTTP " + result.status;
  }

  // A table with a caption and column headers (scope=col); the first cell of each row is
  // its row header (scope=row). Scrolls on its own on narrow screens, by keyboard too.
  function table(caption, columns, rows, rowData) {
    const t = el("table");
    t.createCaption().textContent = caption;
    const head = t.createTHead().insertRow();
    for (const title of columns) {
      const th = el("th", title);
      th.scope = "col";
      head.appendChild(th);
    }
    const body = t.createTBody();
    rows.forEach((cells, index) => {
      const row = body.insertRow();
      if (rowData) rowData(row, index);
      cells.forEach((cell, i) => {
        const [text, cls] = Array.isArray(cell) ? cell : [cell, undefined];
        const node = el(i === 0 ? "th" : "td", text, cls);
        if (i === 0) node.scope = "row";
        row.appendChild(node);
      });
    });
    const wrap = el("div", undefined, "table-wrap");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", caption);
    wrap.appendChild(t);
    return wrap;
  }

  function part(id, title) {
    const section = el("section", undefined, "part");
    section.id = id;
    const heading = el("h3", title);
    heading.id = id + "-heading";
    section.setAttribute("aria-labelledby", heading.id);
    section.appendChild(heading);
    $("posture-body").appendChild(section);
    return section;
  }

  const STATUS_TEXT = { pass: "pass", fail: "FAIL", "no-evidence": "no evidence" };
  const status = (s) => [STATUS_TEXT[s] || s, "status-" + s];

  function showGrade(grade) {
    const section = part("overview", "Overview grade");
    const box = el("div", undefined, "grade");
    box.dataset.grade = grade.grade;
    box.appendChild(el("span", grade.grade, "grade-letter"));
    box.appendChild(el("span", grade.label, "grade-label"));
    box.id = "grade";
    section.appendChild(box);
    if (grade.reasons.length) {
      section.appendChild(el("p", "Why not better (worst first):"));
      const list = el("ul", undefined, "reasons");
      for (const reason of grade.reasons) list.appendChild(el("li", reason));
      section.appendChild(list);
    }
  }

  function showKeys(view) {
    const section = part("keys-due", "Keys due or overdue for rotation");
    if (!view.keys_due.length) {
      section.appendChild(el("p", "No key is due: all " + view.keys_scheduled +
                                  " tracked keys are within their cadence.", "ok"));
      return;
    }
    const rows = view.keys_due.map((k) => [
      [k.name, "id key-name"], k.kind, k.age_days, k.next_due,
      [k.state, "state-" + k.state.replace(" ", "-")],
    ]);
    section.appendChild(table(
      "Keys due soon or overdue (" + view.keys_due.length + " of " + view.keys_scheduled +
      " tracked)", ["Key", "Kind", "Age (days)", "Next due", "State"], rows,
      (row, i) => { row.dataset.key = view.keys_due[i].name; row.dataset.state = view.keys_due[i].state; }));
  }

  function showScans(view) {
    const section = part("scans", "Latest TLS scans");
    if (!view.scans.length) {
      section.appendChild(el("p", "No scan recorded: run callvault scan HOST:PORT " +
                                  "(or list [posture] scan_targets).", "warn"));
      return;
    }
    for (const scan of view.scans) {
      const box = el("article", undefined, "scan");
      box.dataset.target = scan.target;
      box.appendChild(el("h4", scan.target, "id scan-target"));
      const verdict = scan.grade === null ? "no grade" : scan.grade;
      const line = el("p");
      line.appendChild(el("span", verdict, "badge grade-" + (scan.grade || "none").replace("+", "plus")));
      line.appendChild(document.createTextNode(
        " against " + scan.profile + ": " + (scan.passed ? "passes" : "does not pass") +
        "; scanned " + (scan.scanned_at || "?") +
        (scan.server_name ? " as " + scan.server_name : "")));
      box.appendChild(line);
      const others = Object.entries(scan.other_grades).map(([p, g]) => p + " " + g);
      if (others.length) box.appendChild(el("p", "Other profiles: " + others.join(", "), "muted"));
      if (scan.findings.length) {
        box.appendChild(table("Findings for " + scan.target, ["Rule", "Severity", "Message"],
          scan.findings.map((f) => [[f.rule, "id rule"], [f.severity, "sev-" + f.severity], f.message]),
          (row, i) => { row.dataset.rule = scan.findings[i].rule; }));
      } else {
        box.appendChild(el("p", "No findings against " + scan.profile + ".", "ok"));
      }
      section.appendChild(box);
    }
  }

  function showErasures(view) {
    const section = part("erasures", "Erasures in their grace period");
    if (!view.erasures.length) {
      section.appendChild(el("p", "No erasure is scheduled.", "muted"));
      return;
    }
    section.appendChild(table("Scheduled or running erasures",
      ["Request", "Tenant", "Kind", "State", "Due at", "Cancellable"],
      view.erasures.map((e) => [[e.id, "id"], [e.tenant, "id"], e.kind, e.state, e.due_at,
                                e.in_grace ? "yes, in grace" : "no, due now"]),
      (row, i) => { row.dataset.erasure = view.erasures[i].id; }));
  }

  function showAudit(audit) {
    const section = part("audit", "Audit log verification");
    section.dataset.audit = audit.ok ? "verified" : (audit.status === "fail" ? "failed" : "unverified");
    let text;
    if (audit.status === "fail") {
      text = "FAILED: the audit log does not verify. " + audit.evidence;
    } else if (audit.ok && audit.entries) {
      text = "Verified: " + audit.entries + " entries, " + (audit.checkpoints || 0) +
             " signed checkpoint(s) consistent.";
    } else {
      text = "No evidence: " + audit.evidence;
    }
    section.appendChild(el("p", text, "audit-state status-" + audit.status));
    if (audit.error) section.appendChild(el("p", "Error: " + audit.error, "error"));
  }

  function showCertificates(view) {
    const section = part("certificates", "Certificates nearing expiry");
    if (!view.certificates.length) {
      section.appendChild(el("p", "No certificate is expired, revoked or within " +
                                  view.certificate_horizon_days + " days of expiry.", "ok"));
      return;
    }
    section.appendChild(table("Certificates expired, revoked or nearing expiry",
      ["Certificate", "Role", "Serial", "Expires", "Days left", "Status", "Why listed"],
      view.certificates.map((c) => [[c.spiffe_id || c.subject, "id"], c.role, c.serial || "",
                                    c.not_after || "", c.days_left === null ? "" : c.days_left,
                                    [c.status, "cert-" + c.status.replace(" ", "-")], c.reason]),
      (row, i) => { row.dataset.serial = view.certificates[i].serial || ""; }));
  }

  function showControls(view) {
    const section = part("controls", "Compliance controls");
    const counts = { pass: 0, fail: 0, "no-evidence": 0 };
    for (const c of view.controls) counts[c.status] = (counts[c.status] || 0) + 1;
    section.appendChild(el("p", counts.pass + " pass, " + counts.fail + " fail, " +
                                counts["no-evidence"] + " without evidence."));
    section.appendChild(table("Compliance mapping (pass only when every supporting check passes)",
      ["Control", "Framework", "Title", "Status"],
      view.controls.map((c) => [c.control, c.framework, c.title, status(c.status)])));
    const details = el("details");
    details.appendChild(el("summary", "All " + view.checks.length + " checks and their evidence"));
    details.appendChild(table("Posture checks", ["Check", "Status", "Title", "Evidence"],
      view.checks.map((c) => [[c.id, "id"], status(c.status), c.title, c.evidence])));
    section.appendChild(details);
  }

  async function showPosture(token, who) {
    const result = await api(token, "/v1/posture/overview");
    const body = $("posture-body");
    body.replaceChildren();
    $("posture").hidden = false;
    $("posture-meta").textContent = "";
    if (result.status === 200) {
      const view = result.body;
      $("posture").dataset.posture = "shown";
      $("posture-meta").textContent = "Environment " + view.environment + "; facts collected " +
        view.generated_at + " (refreshed at most every " + view.cache_seconds + " s).";
      showGrade(view.grade);
      showKeys(view);
      showScans(view);
      showErasures(view);
      showAudit(view.audit);
      showCertificates(view);
      showControls(view);
      return result.status;
    }
    $("posture").dataset.posture = result.status === 403 ? "forbidden" : "error";
    const text = result.status === 403
      ? "Not permitted: the role " + (who.role || "of this credential") + " cannot read the " +
        "encryption posture. Sign in with an auditor or platform-admin token to see it."
      : "The posture could not be loaded: " + errorText(result);
    body.appendChild(el("p", text, "notice"));
    return result.status;
  }

  function keysTable(tenant, keys) {
    return table("Master keys of " + tenant,
      ["Key id", "State", "Primary version", "Min decrypt version", "Versions", "Created",
       "Last rotation"],
      keys.map((k) => [[k.key_id, "id key-id"], [k.state, "state-" + k.state], [k.primary_version, "primary"],
                       k.min_decrypt_version, k.versions.join(", "), k.created_at, k.rotated_at]),
      (row, i) => { row.dataset.keyId = keys[i].key_id; });
  }

  async function showTenant(token, tenant) {
    const section = el("section", undefined, "tenant");
    section.dataset.tenant = tenant;
    section.appendChild(el("h3", tenant, "tenant-id"));
    $("tenants").appendChild(section);
    const result = await api(token, "/v1/tenants/" + encodeURIComponent(tenant) + "/keys");
    if (result.status === 200) {
      section.appendChild(keysTable(tenant, result.body.keys));
    } else {
      section.appendChild(el("p", "Keys: " + errorText(result), "error"));
    }
  }

  async function showTenants(token, who, postureShown) {
    const listed = await api(token, "/v1/tenants");
    let tenants = [];
    if (listed.status === 200) {
      tenants = listed.body.tenants.map((t) => t.id);
    } else if (listed.status === 403 && who.tenant) {
      tenants = [who.tenant];  // a tenant-bound role may not list tenants: show its own
    } else if (listed.status === 403 && postureShown) {
      return true;  // the auditor: keys are in the posture view, tenants cannot be listed
    } else {
      say("Tenants: " + errorText(listed), "error");
      return false;
    }
    $("tenants-section").hidden = false;
    for (const tenant of tenants) await showTenant(token, tenant);
    return true;
  }

  function signedOut(message) {
    document.body.dataset.state = message ? "unauthenticated" : "signed-out";
    $("signin").hidden = false;
    $("session").hidden = true;
    if (message) say(message, "error");
  }

  async function load() {
    const token = sessionStorage.getItem(KEY);
    for (const id of ["posture-body", "tenants"]) $(id).replaceChildren();
    $("posture").hidden = true;
    $("tenants-section").hidden = true;
    say("");
    if (!token) return signedOut();
    document.body.dataset.state = "loading";
    $("signin").hidden = true;
    $("session").hidden = false;
    const who = claims(token);
    $("who").textContent = "Signed in as " + (who.role || "?") +
      (who.tenant ? " of " + who.tenant : "") +
      (who.exp ? ", expires " + new Date(who.exp * 1000).toISOString() : "");
    $("connection").textContent = "Connection: " + location.protocol.replace(":", "") +
      " to " + location.host + (window.isSecureContext ? " (secure context)" : "");
    say("Loading…");
    const posture = await showPosture(token, who);
    if (posture === 401) {
      sessionStorage.removeItem(KEY);  // refused: ask again rather than retry a bad token
      $("posture").hidden = true;
      return signedOut("The token was refused (expired, revoked or not a callvault token). " +
                       "Paste a new one.");
    }
    // The auditor may not list tenants (its keys are in the posture view): do not ask, so
    // each page load is not a logged denial. The server decides either way.
    const ok = who.role === "auditor" && posture === 200
      ? true : await showTenants(token, who, posture === 200);
    document.body.dataset.state = ok ? "ready" : "error";
    if (ok) say(posture === 200 ? "Posture loaded." : "Loaded (posture not permitted for this role).");
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
      load().then(() => $("token").focus());
    });
    takeFragmentToken();
    load();
  });
})();
