// The agent desktop: renders the view model scs-sim pushes (server-sent events) and sends
// clicks back as presses. Nothing here decides a button's state: the server's view does.
"use strict";

const $ = (sel) => document.querySelector(sel);
const match = location.pathname.match(/^\/agent\/([^/]+)\/?$/);
const agent = match ? decodeURIComponent(match[1]) : null;
const api = agent ? `/api/agent/${encodeURIComponent(agent)}` : null;
let view = null;
let receivedAt = 0;
// Edits of the text box scs-sim has not acknowledged yet (a failed send keeps them counted:
// the box keeps what was typed).
let unsent = 0;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c ?? ""));
  return e;
}

function clock(ms) {
  if (ms === null || ms === undefined) return "";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor(s / 60) % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

// A timer element: shows base age + the time since the view arrived.
function timer(ms) {
  return el("span", { class: "timer", "data-age": ms }, clock(ms));
}

function tick() {
  const extra = performance.now() - receivedAt;
  for (const t of document.querySelectorAll(".timer")) {
    t.textContent = clock(Number(t.dataset.age) + extra);
  }
}

async function post(action, body) {
  const r = await fetch(`${api}/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await r.json();
  if (answer.view) render(answer.view);
  return answer;
}

// A command with a picker (SelectApplet) opens it: the rows the view lists, one button each;
// a click presses the command with that row.
function openPicker(command, picker) {
  const dialog = $("#picker");
  $("#picker-title").textContent = picker.title;
  dialog.dataset.command = command;
  $("#picker-rows").replaceChildren(...picker.rows.map((r, i) => {
    const btn = el("button", { type: "button", role: "option", "data-row": String(i) }, r.label);
    btn.addEventListener("click", () => { dialog.close(); pressRow(command, i); });
    return btn;
  }));
  if (!picker.rows.length) $("#picker-rows").append(el("p", {}, "Nothing to pick from."));
  dialog.showModal();
}

async function pressRow(command, row) {
  const answer = await post("press", { command, row });
  $("#result").textContent = answer.ok
    ? answer.invoked.map((i) => `${command}: ${i.command} (${i.deviceCommand} ${i.tracking}) -> ${i.result}`).join("; ")
    : `${command}: ${answer.error || answer.invoked.map((i) => `${i.deviceCommand} -> ${i.result}`).join("; ")}`;
}

async function press(command) {
  const entry = view && [...view.toolbar, ...view.menu].find((b) => b.command === command && b.picker);
  if (entry) return openPicker(command, entry.picker);
  const answer = await post("press", { command, text: $("#edit").value });
  const what = answer.ok
    ? answer.invoked.map((i) => `${command}: ${i.command} (${i.deviceCommand} ${i.tracking}) -> ${i.result}`).join("; ")
    : `${command}: ${answer.error || answer.invoked.map((i) => `${i.deviceCommand} -> ${i.result}`).join("; ")}`;
  $("#result").textContent = what;
}

// Sets a button's label, state and tooltip from the view's entry for it.
function apply(btn, b) {
  const title = [b.description, b.runs && b.runs.length ? `runs ${b.runs.join(", ")}` : null,
    b.why && b.why.length ? `skipped: ${b.why.join("; ")}` : null].filter(Boolean).join(" | ");
  const state = [b.enabled ? "enabled" : "disabled", b.checked ? "checked" : null,
    b.blinking ? "blinking" : null].filter(Boolean).join(" ");
  btn.dataset.state = state;
  btn.setAttribute("aria-pressed", b.checked ? "true" : "false");
  if (b.hotKey) btn.setAttribute("aria-keyshortcuts", b.hotKey); else btn.removeAttribute("aria-keyshortcuts");
  btn.title = title;
  btn.disabled = !b.enabled;
  btn.classList.toggle("blinking", !!b.blinking);
  btn.replaceChildren(b.label || b.command);
  if (b.hotKey) btn.append(el("kbd", {}, b.hotKey));
}

function buttonFor(b, cls) {
  const btn = el("button", { type: "button", class: cls, "data-command": b.command });
  btn.addEventListener("click", () => press(b.command));
  apply(btn, b);
  return btn;
}

// Updates a list of buttons in place (same commands in the same order), so that a click or
// the focus is never lost to a redraw; rebuilds it otherwise.
function sync(container, list, make) {
  const have = [...container.querySelectorAll("button[data-command]")];
  if (have.length === list.length && have.every((btn, i) => btn.dataset.command === list[i].command)) {
    have.forEach((btn, i) => apply(btn, list[i]));
  } else {
    container.replaceChildren(...list.map(make));
  }
}

function renderPop(pop) {
  const box = $("#pop");
  if (!pop) return box.replaceChildren(el("p", {}, "No screen pop yet."));
  const head = el("p", {}, el("strong", {}, pop.view), ` (event handler ${pop.handler}, response ${pop.response}, work item ${pop.tracking})`);
  const nodes = [head];
  if (pop.kind === "find") {
    const dl = el("dl", { class: "find" });
    for (const [k, v] of pop.fields) dl.append(el("dt", {}, k), el("dd", {}, v));
    nodes.push(el("p", {}, "No matching record: find dialog"), dl);
  } else {
    if (pop.kind === "multi") nodes.push(el("p", {}, `${pop.records.length} matching records`));
    for (const r of pop.records) {
      const dl = el("dl", { class: "record", "data-id": r[0][1] });
      for (const [k, v] of r) dl.append(el("dt", {}, k), el("dd", {}, v));
      nodes.push(dl);
    }
  }
  box.replaceChildren(...nodes);
}

function render(v) {
  if (view && v.seq < view.seq) return; // an older view (a POST answer overtaken by an event)
  view = v;
  receivedAt = performance.now();
  const a = v.agent;
  $("#who").textContent = `Agent ${a.id}${a.name ? ` (${a.name})` : ""}, extension ${a.extension}`;
  sync($("#buttons"), v.toolbar, (b) => buttonFor(b, "tb"));
  const edit = $("#edit");
  edit.hidden = !v.editBox;
  // scs-sim's text replaces the box's only when the agent is not typing in it and scs-sim has
  // what was typed: a view computed before would put the old text back.
  if (!unsent && document.activeElement !== edit && edit.value !== v.text) edit.value = v.text;

  // Pickers: the driver's reason codes for the text box; a dial pad while digits can be sent.
  $("#reasons").replaceChildren(...v.reasons.map((r) => el("option", { value: r.label }, `${r.category} ${r.code}`)));
  const pad = $("#dtmf");
  const dtmf = v.driverToolbar.find((c) => c.command === "SendDTMF");
  pad.hidden = !dtmf || dtmf.disabled || dtmf.notSupported;
  if (!pad.childElementCount) {
    for (const d of "123456789*0#") {
      const key = el("button", { type: "button", "aria-label": `digit ${d}` }, d);
      key.addEventListener("click", () => { edit.value += d; typed(); });
      pad.append(key);
    }
  }

  $("#status").textContent = v.status || "";
  $("#status-age").replaceChildren(v.status ? timer(v.statusAgeMs) : "");
  const st = $("#state");
  st.replaceChildren();
  if (a.state) {
    st.append(`Last agent event ${a.event}: ${a.state}${a.reason ? ` (${a.reason})` : ""}${a.pending ? `, pending ${a.pending}` : ""}, `,
      timer(a.stateAgeMs), " ago");
  }
  const fresh = v.error && (v.statusAgeMs === null || v.errorAgeMs <= v.statusAgeMs);
  $("#error").textContent = fresh ? v.error : "";

  // Work items: one row per tracking id, kept (with its button) across updates.
  const body = $("#workitems tbody");
  const rows = new Map([...body.rows].map((r) => [r.dataset.tracking, r]));
  const wanted = v.workItems.map((w) => {
    let row = rows.get(w.tracking);
    if (!row) {
      const pick = el("button", { type: "button", "data-tracking": w.tracking });
      pick.addEventListener("click", () => post("workitem", { tracking: w.tracking }));
      row = el("tr", { "data-tracking": w.tracking }, el("td"), el("td"), el("td"), el("td"), el("td", {}, pick));
    }
    row.dataset.state = w.state;
    row.dataset.dialog = w.dialogId;
    if (w.current) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
    const [state, direction, party, time, select] = row.cells;
    state.className = `state-${w.state}`;
    state.replaceChildren(w.state, el("br"), el("span", { class: "why" }, `${w.event} ${w.callState}`));
    direction.textContent = w.direction;
    party.textContent = w.otherParty;
    time.replaceChildren(timer(w.ageMs));
    const pick = select.firstChild;
    pick.disabled = w.current;
    pick.textContent = w.current ? "current" : "select";
    pick.setAttribute("aria-label", `Select ${w.description || w.tracking}`);
    return row;
  });
  const same = wanted.length === body.rows.length && wanted.every((r, i) => body.rows[i] === r);
  if (!same) body.replaceChildren(...wanted);
  $("#no-workitems").hidden = v.workItems.length > 0;

  renderPop(v.pop);
  const dash = $("#dashboard");
  dash.replaceChildren(...v.dashboard.flatMap(([k, val]) => [el("dt", {}, k), el("dd", {}, val)]));

  $("#activities tbody").replaceChildren(...v.activities.map((x) => el("tr", { "data-id": x.id },
    el("td", {}, x.id), el("td", {}, x.type), el("td", {}, x.description), el("td", {}, x.contactId),
    el("td", {}, Object.entries(x.afterWork).map(([k, val]) => `${k}=${val}`).join(", ")))));

  sync($("#menu"), v.menu, (b) => {
    const li = el("li", {}, buttonFor(b, "menu"));
    if (b.device) li.append(el("span", { class: "why" }, ` ${b.device}`));
    return li;
  });

  $("#phone").hidden = !v.phone;
  const log = $("#log");
  const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.textContent = v.log.map((l) => `+${(l.t / 1000).toFixed(3)}s ${l.text}`).join("\n");
  if (atEnd) log.scrollTop = log.scrollHeight;
  document.body.dataset.ready = "true";
}

// "Ctrl+Shift+A" from a key event, in the DEF's HotKey spelling.
function keyName(e) {
  const parts = [];
  if (e.ctrlKey) parts.push("ctrl");
  if (e.altKey) parts.push("alt");
  if (e.shiftKey) parts.push("shift");
  let k = e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase();
  if (e.code && /^Key[A-Z]$/.test(e.code)) k = e.code.slice(3).toLowerCase();
  if (e.code && /^Digit\d$/.test(e.code)) k = e.code.slice(5);
  parts.push(k);
  return parts.join("+");
}

function normal(hotKey) {
  const p = hotKey.toLowerCase().split("+").map((s) => s.trim());
  const key = p.pop();
  return ["ctrl", "alt", "shift"].filter((m) => p.includes(m)).concat([key]).join("+");
}

document.addEventListener("keydown", (e) => {
  if (!view) return;
  const name = keyName(e);
  const hit = view.hotKeys.find((h) => normal(h.key) === name);
  if (hit) {
    e.preventDefault();
    press(hit.command);
  }
});

// The text box's content goes to scs-sim as it is typed ({@SelectedText}): the buttons that
// need it (OnEditControl, RequiredField.@SelectedText) become available.
let typing = null;
function typed() {
  unsent += 1;
  clearTimeout(typing);
  typing = setTimeout(sendText, 150);
}

async function sendText() {
  const upTo = unsent;
  await post("text", { text: $("#edit").value });
  if (unsent === upTo) unsent = 0;
}
$("#edit").addEventListener("input", typed);
$("#edit").addEventListener("change", typed);

function selectedDialog() {
  const w = view && view.workItems.find((x) => x.current);
  return w ? w.dialogId : "";
}

async function phone(body) {
  const answer = await post("phone", body);
  $("#result").textContent = answer.ok ? `phone network: ${JSON.stringify(answer.answer)}` : `phone network: ${answer.error}`;
}

$("#call-form").addEventListener("submit", (e) => {
  e.preventDefault();
  phone({ action: "call", ani: $("#ani").value, dnis: $("#dnis").value, callVariable1: $("#cv1").value });
});
$("#far-answer").addEventListener("click", () => phone({ action: "answer", dialog: selectedDialog() }));
$("#far-hangup").addEventListener("click", () => phone({ action: "hangup", dialog: selectedDialog() }));

async function agents() {
  $("#agents").hidden = false;
  $("#conn").textContent = "";
  const list = await (await fetch("/api/agents")).json();
  $("#agent-list").replaceChildren(...list.map((a) => el("li", {}, el("a", { href: a.url }, `Agent ${a.id}`))));
  if (!list.length) $("#agent-list").append(el("li", {}, "No agent sessions."));
}

if (agent) {
  $("#app").hidden = false;
  const events = new EventSource(`${api}/events`);
  events.onopen = () => { $("#conn").textContent = "live"; $("#conn").className = ""; };
  events.onmessage = (m) => render(JSON.parse(m.data));
  events.onerror = () => { $("#conn").textContent = "reconnecting..."; $("#conn").className = "down"; };
  setInterval(tick, 1000);
} else {
  agents();
}

$("#picker-cancel").addEventListener("click", () => $("#picker").close());
