// The Connector Monitor page: renders the connector's state document, pushed every second
// as server-sent events from /events (the browser reconnects by itself when it breaks).
'use strict';

const $ = (s) => document.querySelector(s);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, cls) {
  const tr = el('tr', null, cls);
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c));
  return tr;
}

function fill(tbody, rows, columns, empty) {
  tbody.replaceChildren(...rows);
  if (rows.length === 0) {
    const td = el('td', empty, 'empty');
    td.colSpan = columns;
    tbody.appendChild(row([td]));
  }
}

// "1:05" or "2:03:07" for a number of seconds.
function duration(seconds) {
  if (seconds === null || seconds === undefined || seconds < 0) return '';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

function since(doc, ms) {
  return ms === null || ms === undefined ? '' : duration((doc.nowMs - ms) / 1000);
}

function clock(unixSeconds) {
  return unixSeconds ? new Date(unixSeconds * 1000).toLocaleTimeString() : '';
}

function agentRow(doc, a) {
  const state = el('span', a.state, `state state-${a.state}`);
  const stateCell = el('td');
  stateCell.appendChild(state);
  if (a.pendingState) stateCell.appendChild(el('span', ` → ${a.pendingState}`));
  const notes = el('td', a.notifications ? 'up' : 'down', a.notifications ? 'up' : 'down');
  const server = el('td', a.server || (a.driver ? a.driver : 'none'));
  const tr = row([el('td', a.id, 'mono'), a.name, stateCell, a.reason, since(doc, a.sinceMs),
    a.extension, server, notes], a.stale ? 'stale' : '');
  tr.dataset.agent = a.id;
  tr.dataset.state = a.state;
  if (a.stale) {
    tr.dataset.stale = a.stale;
    tr.title = a.stale;
    notes.textContent += ` (${a.stale})`;
    notes.classList.add('stale-note');
  }
  return tr;
}

function callRow(doc, c) {
  const tr = row([el('td', c.agent, 'mono'), el('td', c.id, 'mono'), c.state, c.from, c.to,
    (c.participants || []).join(', '), since(doc, c.startedMs), c.callType]);
  tr.dataset.dialog = c.id;
  tr.dataset.agent = c.agent;
  return tr;
}

function driverRow(doc, d) {
  const ago = d.lastSeen ? duration(doc.nowMs / 1000 - d.lastSeen) + ' ago' : '';
  const seen = el('td', d.silent ? `${ago} (silent)` : ago, d.silent ? 'down' : '');
  const tr = row([d.host || '?', d.clientId || '(no Hello yet)', d.product, d.agents.join(', '),
    seen, el('td', d.queue, 'mono')], d.silent ? 'stale' : '');
  tr.dataset.queue = d.queue;
  tr.dataset.client = d.clientId;
  tr.dataset.silent = d.silent;
  return tr;
}

function render(doc) {
  $('#connector').textContent = doc.connector;
  const status = $('#status');
  status.textContent = doc.status.replace(/_/g, ' ');
  status.className = `badge ${doc.status}`;
  const role = $('#role');
  role.textContent = doc.serving ? 'active' : 'standby';
  role.className = `badge ${doc.serving ? 'active' : 'standby'}`;
  $('#uptime').textContent = `up ${duration(doc.uptimeSeconds)}`;
  const broker = $('#broker');
  broker.replaceChildren(el('span', doc.broker.up ? 'up' : 'DOWN', doc.broker.up ? 'up' : 'down'),
    el('span', ` ${doc.broker.address}`));

  $('#nodes').replaceChildren(...doc.nodes.map((n) => {
    const known = n.inService === null || n.inService === undefined;
    const li = el('li');
    li.dataset.node = n.url;
    li.dataset.active = n.active;
    li.appendChild(el('span', known ? 'not checked' : (n.inService ? 'in service' : 'OUT OF SERVICE'),
      known ? '' : (n.inService ? 'up' : 'down')));
    li.appendChild(el('span', ` ${n.role} ${n.url}${n.active ? ' (in use)' : ''}`));
    if (n.detail && !n.inService) li.appendChild(el('div', n.detail));
    return li;
  }));
  $('#peers').replaceChildren(...doc.peers.map((p) => {
    const status = p.status ? ` ${p.status.replace(/_/g, ' ').toLowerCase()}` : '';
    const li = el('li', `${p.role}: ${p.name ? p.name + ' ' : ''}${p.instance}${status}` +
      `${p.this ? ' (this one)' : ''}`);
    li.dataset.role = p.role;
    li.dataset.instance = p.instance;
    return li;
  }));

  fill($('#agents tbody'), doc.agents.map((a) => agentRow(doc, a)), 8, 'no agents yet');
  $('#agent-count').textContent = `(${doc.agents.length})`;
  fill($('#calls tbody'), doc.calls.map((c) => callRow(doc, c)), 8, 'no calls');
  $('#call-count').textContent = `(${doc.calls.length})`;
  fill($('#drivers tbody'), doc.driverInstances.map((d) => driverRow(doc, d)), 6,
    'no driver instance');
  $('#driver-count').textContent = `(${doc.driverInstances.length})`;
  fill($('#events tbody'), doc.events.map((e) =>
    row([clock(e.unix), e.level, e.text], `level-${e.level}`)), 3, 'nothing yet');
  document.body.dataset.updated = String(doc.nowMs);
}

// The last document and the connector's clock relative to this browser's: between
// documents (sent only when something changed) the times advance here.
let last = null;
let offset = 0;

function tick() {
  if (!last) return;
  const now = Date.now() + offset;
  last.uptimeSeconds += (now - last.nowMs) / 1000;
  last.nowMs = now;
  render(last);
}

function connect() {
  const live = $('#live');
  const source = new EventSource('events');
  source.addEventListener('state', (m) => {
    live.textContent = 'live';
    live.className = 'badge on';
    document.body.dataset.live = 'true';
    last = JSON.parse(m.data);
    offset = last.nowMs - Date.now();
    render(last);
  });
  source.onerror = () => {
    live.textContent = 'reconnecting…';
    live.className = 'badge off';
    document.body.dataset.live = 'false';
  };
}

connect();
setInterval(tick, 1000);
