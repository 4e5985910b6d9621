// medcode review UI: plain JavaScript, no build step. Evidence offsets from
// the API are UTF-8 byte offsets; the note is rendered once per change as
// text segments, each covered segment a <mark> listing its codes.
"use strict";

const $ = (id) => document.getElementById(id);
// Colours per code are the classes p0 ... p9 of app.css (the page's
// content security policy allows no inline styles).
const PALETTE = { length: 10 };
const SHOWN = new Set(["pending", "accepted"]); // statuses whose evidence is highlighted
// A rejected code's evidence keeps a muted highlight: what the coder
// turned down stays findable in the note.
const MUTED = new Set(["rejected"]);

const state = { guides: new Map(), token: sessionStorage.getItem("medcode-token") || "", me: null, doc: null, sel: -1, emphCursor: {}, selection: null, systems: [] };

function status(msg, isError) {
  const s = $("status");
  s.textContent = msg;
  s.classList.toggle("error", !!isError);
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: "Bearer " + state.token } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data && data.error) || { code: "http_" + res.status, message: res.statusText };
    if (res.status === 401) signOut();
    throw Object.assign(new Error(e.message), { code: e.code, status: res.status });
  }
  return data;
}

// utf8Len returns the UTF-8 length of a string.
function utf8Len(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

// byteIndex maps sorted UTF-8 byte offsets to UTF-16 indexes of text in
// one pass.
function byteIndex(text, offsets) {
  const out = new Map();
  let b = 0, i = 0, k = 0;
  while (k < offsets.length) {
    while (k < offsets.length && offsets[k] <= b) out.set(offsets[k++], i);
    if (i >= text.length) break;
    const c = text.charCodeAt(i);
    if (c < 0x80) { b += 1; i += 1; }
    else if (c < 0x800) { b += 2; i += 1; }
    else if (c >= 0xd800 && c <= 0xdbff) { b += 4; i += 2; }
    else { b += 3; i += 1; }
  }
  while (k < offsets.length) out.set(offsets[k++], text.length);
  return out;
}


function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}

// renderNote draws the note with a <mark> per stretch of text covered by
// the same set of codes.
function renderNote() {
  const doc = state.doc, note = $("note");
  const text = doc.text;
  const events = [];
  doc.codes.forEach((c, ci) => {
    if (!SHOWN.has(c.status) && !MUTED.has(c.status)) return;
    for (const e of c.evidence || []) { events.push([e.start, ci, 1], [e.end, ci, -1]); }
  });
  const offsets = [...new Set([0, utf8Len(text), ...events.map((e) => e[0])])].sort((a, b) => a - b);
  const idx = byteIndex(text, offsets);
  events.sort((a, b) => a[0] - b[0]);
  const frag = document.createDocumentFragment();
  const active = new Map();
  let ev = 0;
  for (let k = 0; k + 1 < offsets.length; k++) {
    const at = offsets[k];
    for (; ev < events.length && events[ev][0] === at; ev++) {
      const [, ci, d] = events[ev];
      const n = (active.get(ci) || 0) + d;
      if (n > 0) active.set(ci, n); else active.delete(ci);
    }
    const seg = text.slice(idx.get(at), idx.get(offsets[k + 1]));
    if (active.size === 0) { frag.append(seg); continue; }
    const cis = [...active.keys()].sort((a, b) => a - b);
    const live = cis.filter((ci) => SHOWN.has(doc.codes[ci].status));
    // Plain DOM calls: this loop runs once per highlight, thousands of
    // times on a long note.
    const m = document.createElement("mark");
    m.className = live.length ? "hl p" + (live[0] % PALETTE.length) + (live.length > 1 ? " multi" : "") : "hl rej";
    m.dataset.codes = cis.join(" ");
    m.dataset.start = at;
    m.dataset.end = offsets[k + 1];
    m.textContent = seg;
    frag.append(m);
  }
  note.replaceChildren(frag);
  state.emphCursor = {};
}

function codeLabel(c) { return `${c.code} ${c.title || ""}`.trim(); }

// What each assertion means, for the tooltip of its tag (the values are
// coding.Assertion's).
const ASSERTIONS = {
  "affirmed": "present in this encounter",
  "negated": "documented as absent or ruled out",
  "possible": "uncertain diagnosis",
  "historical": "documented as history",
  "resolved": "present in this encounter, documented as gone",
  "family": "a family member's: the code reports family history",
  "other person": "someone other than the patient",
  "hypothetical": "considered or planned, not documented as having happened",
};

// assertionTag shows a code's assertion; a code without one (an older
// result) shows none.
function assertionTag(c) {
  if (!c.assertion) return null;
  return el("span", { class: "assert a-" + c.assertion.replace(/ /g, "-"), title: ASSERTIONS[c.assertion] || "", text: c.assertion });
}

// systemTitle names a classification by its title when the server lists
// it (GET /v1/systems), else by its name.
function systemTitle(sys) {
  const s = state.systems.find((x) => x.system === sys);
  return s ? s.title : sys;
}

// loadSystems fills the classification pickers with those installed: the
// search and add panel lists every one, the new-note form those the
// server codes into.
async function loadSystems() {
  try {
    ({ systems: state.systems } = await api("GET", "/v1/systems"));
  } catch (e) { status(e.message, true); return; }
  const opt = (s) => el("option", { value: s.system, text: `${s.title} (${s.release})` });
  $("search-system").replaceChildren(...state.systems.map(opt));
  $("new-systems").replaceChildren(...state.systems.filter((s) => s.coding).map(opt));
}

// guidelineRefs lists the guideline sections a trail cites, each with its
// edition; opening one reads the section from the server, since the trail
// carries only the beginning of its text. A step without a year was
// applied from medcode's built-in summary: there is no installed text to
// show.
function guidelineRefs(steps) {
  const p = el("div", { class: "meta guides" }, "Guidelines: ");
  const panel = el("div", { class: "gl-text", role: "region", "aria-live": "polite", hidden: true });
  const seen = new Set();
  for (const s of steps) {
    const key = (s.year || "") + "/" + (s.ref || s.detail);
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > 1) p.append(", ");
    if (!s.year || !s.ref) {
      p.append(el("span", { class: "gl-ref", title: s.detail, text: (s.ref || s.detail) + " (built-in summary)" }));
      continue;
    }
    const btn = el("button", { type: "button", class: "gl-ref", "aria-expanded": "false", "data-ref": s.ref, "data-year": s.year,
      title: s.quote || "", onclick: () => showGuideline(btn, panel, s) }, `${s.ref} (FY${s.year})`);
    p.append(btn);
  }
  p.append(panel);
  return p;
}

// showGuideline toggles the panel under a code's guideline references
// between closed and the text of the section s cites.
async function showGuideline(btn, panel, s) {
  const open = btn.getAttribute("aria-expanded") === "true";
  for (const b of panel.parentElement.querySelectorAll("button.gl-ref")) b.setAttribute("aria-expanded", "false");
  if (open) { panel.hidden = true; return; }
  btn.setAttribute("aria-expanded", "true");
  panel.hidden = false;
  const key = s.year + "/" + s.ref;
  try {
    if (!state.guides.has(key)) {
      state.guides.set(key, await api("GET", `/v1/guidelines/${encodeURIComponent(s.year)}/${encodeURIComponent(s.ref)}`));
    }
    const g = state.guides.get(key);
    panel.replaceChildren(
      el("p", { class: "gl-head" }, el("strong", { text: `Section ${g.id}` }), ` ${g.title} · ICD-10-CM Official Guidelines FY${g.year}`),
      ...(g.text || s.quote || "").split("\n").map((t) => el("p", { class: "gl-body", text: t })));
  } catch (e) {
    // The stored quote still says what the rule is when the edition is
    // no longer installed.
    panel.replaceChildren(el("p", { class: "gl-head error", text: `Section ${s.ref} (FY${s.year}): ${e.message}` }),
      ...(s.quote ? [el("p", { class: "gl-body", text: s.quote })] : []));
  }
}

// renderCodes lists the codes one compact row each (code, status, tags,
// actions; the title on a line of its own); the selected code shows the
// rest: warnings, reason, index path, guidelines, trail.
function renderCodes() {
  const list = $("codes"), doc = state.doc;
  list.replaceChildren();
  doc.codes.forEach((c, ci) => {
    const li = el("li", { class: `code ${c.status} p${ci % PALETTE.length}`, id: "code-" + c.id, "data-index": ci, tabindex: "-1",
      "aria-label": `${c.code}, ${c.status}` + (c.assertion ? `, ${c.assertion}` : "") });
    const warns = c.warnings || [];
    const head = el("div", { class: "head" },
      el("button", { class: "cd", type: "button", title: "Show evidence", onclick: () => { select(ci); showEvidence(ci); } }, c.code),
      el("span", { class: "badge " + c.status, text: c.status + (c.origin !== "engine" ? " · " + c.origin : "") }),
      assertionTag(c),
      el("span", { class: "sys", title: "Classification", text: systemTitle(c.system) }),
      warns.length ? el("span", { class: "warn-mark", title: warns.join("\n"), "aria-label": `${warns.length} warning${warns.length === 1 ? "" : "s"}`, text: "⚠" + (warns.length > 1 ? warns.length : "") }) : null);
    if (c.status !== "replaced" && canWrite()) {
      head.append(el("span", { class: "actions" },
        el("button", { type: "button", class: "accept", title: "Accept (a)", "aria-label": `Accept ${c.code}`, onclick: () => decide(ci, "accept"), disabled: c.status === "accepted", "aria-keyshortcuts": "a" }, "✓"),
        el("button", { type: "button", class: "reject", title: "Reject… (r)", "aria-label": `Reject ${c.code}…`, onclick: () => openInline(ci, "reject"), disabled: c.status === "rejected", "aria-keyshortcuts": "r" }, "✗"),
        el("button", { type: "button", class: "replace", title: "Replace… (e)", "aria-label": `Replace ${c.code}…`, onclick: () => openInline(ci, "replace"), "aria-keyshortcuts": "e" }, "⇄")));
    }
    li.append(head, el("p", { class: "title", title: c.title || "", text: c.title || "" }));
    const more = el("div", { class: "more" });
    for (const w of warns) more.append(el("p", { class: "warn", text: "⚠ " + w }));
    if (c.reason) more.append(el("p", { class: "reason", text: "Reason: " + c.reason }));
    const idxSteps = (c.trail || []).filter((s) => s.kind === "index");
    const gl = (c.trail || []).filter((s) => s.kind === "guideline");
    if (idxSteps.length) more.append(el("p", { class: "meta", text: "Index: " + idxSteps.map((s) => s.ref || s.detail).join(" · ") }));
    if (gl.length) more.append(guidelineRefs(gl));
    if ((c.trail || []).length) {
      const ol = el("ol");
      for (const s of c.trail) ol.append(el("li", { text: `${s.kind}: ${s.detail}${s.ref ? " [" + s.ref + (s.year ? ", FY" + s.year : "") + "]" : ""}` }));
      more.append(el("details", {}, el("summary", { text: "Trail" }), ol));
    }
    const ev = (c.evidence || []).length;
    more.append(el("p", { class: "meta", text: `${ev} evidence span${ev === 1 ? "" : "s"}` + (c.decidedBy ? ` · decided by ${c.decidedBy}` : "") }));
    li.append(more);
    li.addEventListener("click", (ev) => { if (!ev.target.closest("button, form, details, a")) select(ci); });
    li.addEventListener("mouseenter", () => linkMarks(ci, true));
    li.addEventListener("mouseleave", () => linkMarks(ci, false));
    list.append(li);
  });
  if (state.sel >= doc.codes.length) state.sel = doc.codes.length - 1;
  if (state.sel >= 0) $("codes").children[state.sel].classList.add("sel");
}

function canWrite() { return state.me && state.me.role !== "auditor"; }

function marksOf(ci) {
  return [...$("note").querySelectorAll("mark")].filter((m) => m.dataset.codes.split(" ").includes(String(ci)));
}

function linkMarks(ci, on) { for (const m of marksOf(ci)) m.classList.toggle("linked", on); }

function select(ci) {
  const items = $("codes").children;
  if (!items.length) return;
  ci = Math.max(0, Math.min(items.length - 1, ci));
  if (state.sel >= 0 && items[state.sel]) items[state.sel].classList.remove("sel");
  state.sel = ci;
  items[ci].classList.add("sel");
  items[ci].scrollIntoView({ block: "nearest" });
  items[ci].focus({ preventScroll: true });
}

// showEvidence emphasises a code's spans and scrolls to the next one.
function showEvidence(ci) {
  for (const m of $("note").querySelectorAll("mark.emph")) m.classList.remove("emph");
  const ms = marksOf(ci);
  if (!ms.length) { status(`${state.doc.codes[ci].code} has no highlighted evidence`); return; }
  for (const m of ms) m.classList.add("emph");
  // Spans may be split into several marks: step through span starts.
  const starts = ms.filter((m, i) => i === 0 || ms[i - 1].dataset.end !== m.dataset.start);
  const k = (state.emphCursor[ci] || 0) % starts.length;
  state.emphCursor[ci] = k + 1;
  starts[k].scrollIntoView({ block: "center" });
  status(`${state.doc.codes[ci].code}: evidence ${k + 1} of ${starts.length}`);
}

function openInline(ci, action) {
  select(ci);
  const li = $("codes").children[ci];
  li.querySelector(".inline")?.remove();
  const input = el("input", { id: `inline-${action}`, autocomplete: "off" });
  const lab = el("label", { for: input.id, text: action === "reject" ? "Reason for rejecting" : "Replacement code" });
  const form = el("form", { class: "inline" }, lab, el("div", { class: "row" }, input,
    el("button", { type: "submit", class: "primary" }, action === "reject" ? "Reject" : "Replace"),
    el("button", { type: "button", onclick: () => form.remove() }, "Cancel")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    if (!v) { status(action === "reject" ? "A rejection needs a reason" : "Type a code", true); input.focus(); return; }
    decide(ci, action, action === "reject" ? { reason: v } : { code: v });
  });
  form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { form.remove(); li.focus(); } });
  li.append(form);
  input.focus();
}

async function decide(ci, action, extra) {
  const c = state.doc.codes[ci];
  try {
    await api("POST", `/v1/documents/${state.doc.id}/codes/${c.id}/decision`, { action, ...extra });
    status(`${c.code} ${action === "replace" ? "replaced by " + extra.code.toUpperCase() : action + "ed"}`);
    await openDoc(state.doc.id, true);
    select(ci);
  } catch (e) { status(`${c.code}: ${e.message} (${e.code})`, true); }
}

async function openDoc(id, keepSel) {
  try {
    const doc = await api("GET", "/v1/documents/" + encodeURIComponent(id));
    // A queued document has no codes or runs yet.
    doc.codes = doc.codes || [];
    doc.runs = doc.runs || [];
    state.doc = doc;
    if (!keepSel) state.sel = doc.codes.length ? 0 : -1;
    if (location.hash !== "#doc=" + id) history.replaceState(null, "", "#doc=" + id);
    const run = doc.runs[doc.runs.length - 1];
    $("doc-meta").textContent = `${doc.id} · ${doc.setting} · ${doc.status} · ${utf8Len(doc.text).toLocaleString()} bytes · by ${doc.coder}` +
      (run ? ` · ${run.reasoner} (${(run.releases || []).join(", ")}) in ${(run.duration / 1e6).toFixed(1)} ms` : "") +
      (doc.error ? ` · coding failed: ${doc.error}` : "");
    renderNote();
    renderCodes();
    $("recode-btn").disabled = !canWrite();
    const exp = $("export-link");
    exp.hidden = doc.status !== "reviewed";
    exp.href = `/v1/documents/${doc.id}/export?format=fhir`;
    exp.onclick = (ev) => { ev.preventDefault(); download(doc.id); };
    await Promise.all([loadAudit(), loadDocs()]);
  } catch (e) { status(`Open ${id}: ${e.message}`, true); }
}

async function download(id) {
  try {
    const data = await api("GET", `/v1/documents/${id}/export?format=fhir`);
    const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/fhir+json" })), download: id + ".fhir.json" });
    a.click();
  } catch (e) { status(e.message, true); }
}

async function loadAudit() {
  const rows = $("audit-rows");
  const { entries } = await api("GET", `/v1/documents/${state.doc.id}/audit`);
  const byId = new Map(state.doc.codes.map((c) => [c.id, c.code]));
  rows.replaceChildren(...entries.map((e) => {
    let detail = "";
    const a = e.after || {};
    if (e.action === "coding.run") detail = `${a.reasoner}: ${(a.codes || []).join(", ") || "no codes"}`;
    else if (e.before && a.status) detail = `${e.before.status} → ${a.status}${a.reason ? " (" + a.reason + ")" : ""}`;
    else if (a.code && a.replacement) detail = `${e.before.status} → replaced by ${a.replacement.code}${a.code.reason ? " (" + a.code.reason + ")" : ""}`;
    else if (a.code) detail = `added ${a.code}`;
    return el("tr", { class: "audit-row" },
      el("td", {}, el("time", { datetime: e.at, text: new Date(e.at).toLocaleString() })),
      el("td", { text: e.actor }), el("td", { class: "action", text: e.action }),
      el("td", { text: byId.get(e.codeId) || "" }), el("td", { text: detail }));
  }));
}

// loadDocs lists the tenant's documents by their first line and
// externalId; the form for a new note opens by itself while there are
// none.
async function loadDocs() {
  const st = $("filter-status").value;
  const { documents } = await api("GET", "/v1/documents?limit=100" + (st ? "&status=" + st : ""));
  $("docs").replaceChildren(...documents.map((d) => el("li", {},
    el("button", { type: "button", "aria-current": state.doc && state.doc.id === d.id ? "true" : "false", title: d.id, onclick: () => openDoc(d.id) },
      el("span", { class: "doc-title", text: d.preview || "(blank note)" }),
      el("small", { text: [d.externalId, d.status, new Date(d.created).toLocaleString(), d.coder].filter(Boolean).join(" · ") })))));
  if (!documents.length && !st && canWrite()) $("new-box").open = true;
}

async function submitNote(ev) {
  ev.preventDefault();
  const text = $("new-text").value;
  if (!text.trim()) { status("Paste or upload a note first", true); return; }
  $("code-btn").disabled = true;
  status("Coding…");
  try {
    const systems = [...$("new-systems").selectedOptions].map((o) => o.value);
    const doc = await api("POST", "/v1/documents", { text, setting: $("new-setting").value, ...(systems.length ? { systems } : {}) });
    status(`Coded ${doc.id}: ${doc.codes.length} codes`);
    $("new-text").value = "";
    // The note is open in the middle now: the form gives the column back.
    $("new-box").open = false;
    await openDoc(doc.id);
  } catch (e) { status(`Coding failed: ${e.message} (${e.code})`, true); }
  $("code-btn").disabled = false;
}

// Selection → evidence span in bytes.
function noteSelection() {
  const sel = window.getSelection();
  const note = $("note");
  if (!sel.rangeCount || sel.isCollapsed || !state.doc) return null;
  const r = sel.getRangeAt(0);
  if (!note.contains(r.startContainer) || !note.contains(r.endContainer)) return null;
  const pre = document.createRange();
  pre.setStart(note, 0);
  pre.setEnd(r.startContainer, r.startOffset);
  let s = pre.toString().length, e = s + r.toString().length;
  const text = state.doc.text;
  while (s < e && /\s/.test(text[s])) s++;
  while (e > s && /\s/.test(text[e - 1])) e--;
  if (s === e) return null;
  const start = utf8Len(text.slice(0, s));
  return { start, end: start + utf8Len(text.slice(s, e)), text: text.slice(s, e) };
}

function openAdd() {
  const sp = noteSelection() || state.selection;
  if (!sp) { status("Select the evidence in the note first", true); return; }
  state.selection = sp;
  $("add-assertion").value = "affirmed";
  $("add-panel").hidden = false;
  $("add-warning").hidden = true;
  $("add-quote").textContent = sp.text;
  $("search-q").value = sp.text.slice(0, 200);
  $("hits").replaceChildren();
  $("search-q").focus();
  search();
}

async function search(ev) {
  if (ev) ev.preventDefault();
  const q = $("search-q").value.trim();
  if (!q) return;
  try {
    // Only codes a coder may add: the server refuses headers anyway.
    const { hits } = await api("GET", `/v1/search?limit=15&assignable=true&system=${$("search-system").value}&q=${encodeURIComponent(q)}`);
    $("hits").replaceChildren(...hits.filter((h) => h.code).map((h) => el("li", {},
      el("span", { class: "path" }, `${h.code} — ${(h.path || []).join(" › ")}${h.column ? " [" + h.column + "]" : ""}`,
        el("small", { text: `${h.source}${h.title ? " · " + h.title : ""}` })),
      el("button", { type: "button", onclick: () => addCode(h.code) }, "Add " + h.code))));
    if (!hits.length) status("No reportable code matches in the index");
  } catch (e) { status(e.message, true); }
}

async function addCode(code) {
  const sp = state.selection;
  if (!sp || !code) return;
  $("add-warning").hidden = true;
  try {
    await api("POST", `/v1/documents/${state.doc.id}/codes`, { code, system: $("search-system").value, assertion: $("add-assertion").value, evidence: [{ start: sp.start, end: sp.end, text: sp.text }] });
    status(`Added ${code.toUpperCase()}`);
    closeAdd();
    await openDoc(state.doc.id, true);
    select(state.doc.codes.length - 1);
  } catch (e) {
    if (e.code === "duplicate_code") {
      // Point at the code already there rather than only failing.
      const up = code.toUpperCase();
      const i = state.doc.codes.findIndex((c) => c.code.toUpperCase() === up && SHOWN.has(c.status));
      $("add-warning").textContent = i >= 0 ? `${up} is already on this document (${state.doc.codes[i].status}): decide on it in the code list`
        : `${up} is already on this document: ${e.message}`;
      $("add-warning").hidden = false;
      if (i >= 0) select(i);
      return;
    }
    status(`${code}: ${e.message} (${e.code})`, true);
  }
}

function closeAdd() { $("add-panel").hidden = true; $("add-warning").hidden = true; state.selection = null; }

function showTip(ev) {
  const m = ev.target.closest("mark");
  const tip = $("tip");
  for (const x of document.querySelectorAll(".code.linked")) x.classList.remove("linked");
  if (!m) { tip.hidden = true; return; }
  const cis = m.dataset.codes.split(" ").map(Number);
  tip.textContent = cis.map((ci) => codeLabel(state.doc.codes[ci])).join(" · ");
  for (const ci of cis) $("codes").children[ci]?.classList.add("linked");
  const r = m.getBoundingClientRect();
  tip.style.left = Math.max(4, r.left) + "px";
  tip.style.top = r.bottom + 6 + "px";
  tip.hidden = false;
}

// The audit dashboard (auditor, admin): GET /v1/audit/summary drawn as
// tables with a bar per rate and a chart of the weekly agreement.
function canAudit() { return state.me && (state.me.role === "auditor" || state.me.role === "admin"); }

function showDash(on) {
  $("dash").hidden = !on;
  $("app").hidden = on;
  $("dash-btn").setAttribute("aria-pressed", String(on));
  $("dash-btn").textContent = on ? "Back to review" : "Audit dashboard";
  if (on) loadDash();
}

// dashQuery builds the summary's query from the form; "to" is inclusive
// in the form and exclusive in the API, hence the day added.
function dashQuery(format) {
  const p = new URLSearchParams();
  if ($("dash-from").value) p.set("from", $("dash-from").value);
  if ($("dash-to").value) {
    const d = new Date($("dash-to").value + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    p.set("to", d.toISOString().slice(0, 10));
  }
  if (state.me.role === "admin" && $("dash-tenant").value.trim()) p.set("tenant", $("dash-tenant").value.trim());
  if (format) p.set("format", format);
  const q = p.toString();
  return "/v1/audit/summary" + (q ? "?" + q : "");
}

function pct(x) { return (x * 100).toFixed(1) + "%"; }

// rateCell shows a rate as a bar and a percentage.
function rateCell(x, kind) {
  const fill = el("div", { class: "fill" });
  fill.style.width = pct(x);
  return el("td", {}, el("div", { class: "rate " + kind }, el("div", { class: "bar", "aria-hidden": "true" }, fill), el("span", { text: pct(x) })));
}

const COUNT_HEADS = ["Decided", "Accepted", "Rejected", "Replaced", "Added", "Acceptance", "Rejection", "Replacement", "Agreement"];

function countCells(c) {
  return [...[c.decided, c.accepted, c.rejected, c.replaced, c.added].map((n) => el("td", { class: "num", text: String(n) })),
    rateCell(c.acceptanceRate, "r-ok"), rateCell(c.rejectionRate, "r-bad"), rateCell(c.replacementRate, "r-warn"), rateCell(c.agreement, "")];
}

function fillTable(id, heads, rows) {
  const t = $(id);
  const cap = t.querySelector("caption");
  const head = el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col", text: h }))));
  const body = el("tbody", {}, ...(rows.length ? rows.map((cells) => el("tr", {}, ...cells))
    : [el("tr", {}, el("td", { colspan: String(heads.length), class: "dash-empty", text: "No decisions in this period" }))]));
  t.replaceChildren(cap, head, body);
}

// weekChart draws the weekly agreement as an SVG bar chart.
function weekChart(weeks) {
  const NS = "http://www.w3.org/2000/svg";
  const bw = 44, gap = 8, h = 120, top = 14, bottom = 18;
  const svg = document.createElementNS(NS, "svg");
  const w = Math.max(1, weeks.length) * (bw + gap);
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(h + top + bottom));
  svg.setAttribute("viewBox", `0 0 ${w} ${h + top + bottom}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Agreement per week: " + weeks.map((x) => `${x.week} ${pct(x.agreement)}`).join(", "));
  const txt = (x, y, s) => { const t = document.createElementNS(NS, "text"); t.setAttribute("x", String(x)); t.setAttribute("y", String(y)); t.setAttribute("text-anchor", "middle"); t.textContent = s; return t; };
  weeks.forEach((wk, i) => {
    const x = i * (bw + gap), bh = Math.round(wk.agreement * h);
    const r = document.createElementNS(NS, "rect");
    r.setAttribute("x", String(x)); r.setAttribute("y", String(top + h - bh));
    r.setAttribute("width", String(bw)); r.setAttribute("height", String(bh));
    r.setAttribute("class", "week-bar");
    svg.append(r, txt(x + bw / 2, top + h - bh - 3, pct(wk.agreement)), txt(x + bw / 2, top + h + 13, wk.week.slice(5)));
  });
  $("dash-chart").replaceChildren(weeks.length ? svg : el("p", { class: "dash-empty", text: "No decisions in this period" }));
}

async function loadDash(ev) {
  if (ev) ev.preventDefault();
  let s;
  try { s = await api("GET", dashQuery()); } catch (e) { status(`Audit dashboard: ${e.message} (${e.code})`, true); return; }
  const t = s.total;
  $("dash-total").replaceChildren(...[["Tenant", s.tenant], ["Engine codes decided", t.decided], ["Accepted", pct(t.acceptanceRate)],
    ["Rejected", pct(t.rejectionRate)], ["Replaced", pct(t.replacementRate)], ["Added by coders", t.added], ["Agreement", pct(t.agreement)]]
    .map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: String(v) }))));
  weekChart(s.byWeek);
  fillTable("dash-week", ["Week of", ...COUNT_HEADS], s.byWeek.map((w) => [el("td", { text: w.week }), ...countCells(w)]));
  fillTable("dash-rejected", ["Code", "Title", "Rejected", "of decided", "Reasons"], s.mostRejected.map((r) => [
    el("td", { text: r.code }), el("td", { text: r.title || "" }), el("td", { class: "num", text: String(r.rejected) }),
    el("td", { class: "num", text: String(r.decided) }),
    el("td", {}, el("ul", { class: "reasons" }, ...r.reasons.map((x) => el("li", { text: `${x.reason} (${x.count})` }))))]));
  fillTable("dash-chapter", ["System", "Chapter", "Title", ...COUNT_HEADS], s.byChapter.map((c) => [
    el("td", { text: systemTitle(c.system) }), el("td", { text: c.chapter || "—" }), el("td", { text: c.title }), ...countCells(c)]));
  fillTable("dash-coder", ["Coder", ...COUNT_HEADS], s.byCoder.map((c) => [el("td", { text: c.coder }), ...countCells(c)]));
  fillTable("dash-code", ["Code", "Title", "Chapter", ...COUNT_HEADS], s.byCode.map((c) => [
    el("td", { text: c.code }), el("td", { text: c.title }), el("td", { text: c.chapter || "—" }), ...countCells(c)]));
  status(`Audit summary: ${t.decided} engine codes decided`);
}

async function downloadCSV() {
  try {
    const res = await fetch(dashQuery("csv"), { headers: { Authorization: "Bearer " + state.token } });
    if (!res.ok) { const d = await res.json().catch(() => null); throw new Error(d && d.error ? d.error.message : res.statusText); }
    const a = el("a", { href: URL.createObjectURL(await res.blob()), download: "audit-summary.csv" });
    a.click();
    status("Downloaded audit-summary.csv");
  } catch (e) { status(`CSV: ${e.message}`, true); }
}

function onKey(ev) {
  const t = ev.target;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (t.closest && t.closest("input, textarea, select")) { if (ev.key === "Escape") { t.blur(); closeAdd(); } return; }
  if (!state.doc && ev.key !== "?") return;
  const k = ev.key;
  const act = {
    j: () => select(state.sel + 1), ArrowDown: () => select(state.sel + 1),
    k: () => select(state.sel - 1), ArrowUp: () => select(state.sel - 1),
    Enter: () => state.sel >= 0 && showEvidence(state.sel),
    a: () => state.sel >= 0 && canWrite() && decide(state.sel, "accept"),
    r: () => state.sel >= 0 && canWrite() && openInline(state.sel, "reject"),
    e: () => state.sel >= 0 && canWrite() && openInline(state.sel, "replace"),
    n: () => canWrite() && openAdd(),
    "/": () => { if (!$("add-panel").hidden) $("search-q").focus(); else openAdd(); },
    "?": () => toggleHelp(),
    Escape: () => closeAdd(),
  }[k];
  if (!act) return;
  if ((k === "ArrowDown" || k === "ArrowUp" || k === "Enter") && !t.closest?.("#codes")) return;
  ev.preventDefault();
  act();
}

function toggleHelp() {
  const h = $("help");
  h.hidden = !h.hidden;
  $("help-btn").setAttribute("aria-expanded", String(!h.hidden));
}

async function signIn(ev) {
  if (ev) ev.preventDefault();
  const input = $("token");
  if (input.value) state.token = input.value.trim();
  try {
    state.me = await api("GET", "/v1/me");
  } catch (e) {
    status(e.status === 401 ? "Unknown or revoked token" : e.message, true);
    return;
  }
  sessionStorage.setItem("medcode-token", state.token);
  input.value = "";
  $("signin").hidden = true;
  $("app").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = `${state.me.name} (${state.me.role}, ${state.me.tenant})`;
  $("new-box").hidden = !canWrite();
  $("add-btn").hidden = !canWrite();
  $("dash-btn").hidden = !canAudit();
  $("dash-tenant-box").hidden = state.me.role !== "admin";
  status("");
  await loadSystems();
  const m = location.hash.match(/^#doc=(.+)$/);
  if (m) await openDoc(decodeURIComponent(m[1]));
  else await loadDocs();
}

function signOut() {
  sessionStorage.removeItem("medcode-token");
  state.token = "";
  state.me = state.doc = null;
  $("app").hidden = true;
  $("dash").hidden = true;
  $("who").hidden = true;
  $("signin").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("help-btn").addEventListener("click", toggleHelp);
  $("dash-btn").addEventListener("click", () => showDash($("dash").hidden));
  $("dash-form").addEventListener("submit", loadDash);
  $("dash-csv").addEventListener("click", downloadCSV);
  $("new-form").addEventListener("submit", submitNote);
  $("new-file").addEventListener("change", async (ev) => {
    const f = ev.target.files[0];
    if (f) $("new-text").value = await f.text();
  });
  $("filter-status").addEventListener("change", () => loadDocs().catch((e) => status(e.message, true)));
  $("add-btn").addEventListener("click", openAdd);
  $("add-cancel").addEventListener("click", closeAdd);
  $("add-direct").addEventListener("click", () => addCode($("add-code").value.trim()));
  $("search-form").addEventListener("submit", search);
  $("recode-btn").addEventListener("click", async () => {
    try { await api("POST", `/v1/documents/${state.doc.id}/code`); await openDoc(state.doc.id); status("Coded again"); }
    catch (e) { status(e.message, true); }
  });
  const note = $("note");
  note.addEventListener("mouseover", showTip);
  note.addEventListener("mouseleave", () => { $("tip").hidden = true; });
  const remember = () => {
    const sp = noteSelection();
    if (sp) state.selection = sp;
    $("add-btn").disabled = !sp;
  };
  note.addEventListener("mouseup", remember);
  note.addEventListener("keyup", remember);
  note.addEventListener("click", (ev) => {
    const m = ev.target.closest("mark");
    if (m && window.getSelection().isCollapsed) select(Number(m.dataset.codes.split(" ")[0]));
  });
  document.addEventListener("keydown", onKey);
  if (state.token) signIn();
});
