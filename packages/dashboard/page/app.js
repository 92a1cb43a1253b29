// The dashboard page: a small client of the server's endpoints (docs/dashboard.md). Deployments and
// results arrive as Server-Sent Events; results are upserted by the `upsertKey` the server computes, in the
// table and in the chart (Chart.js, served from node_modules). Everything user-provided is set as text.
/* global Chart */

/** Measurements the browser tests read: for each result, page arrival minus the record's Kafka timestamp. */
const measured = { latencies: [] };
window.__flinkfn = measured;

const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
};
const duration = (ms) => {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
};
const rate = (r) => (r === null || r === undefined ? '–' : r < 10 ? r.toFixed(1) : String(Math.round(r)));
const time = (ms) => (ms === null || ms === undefined ? '–' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ''));

/** A counter's sum, a gauge's highest value, a histogram's statistics over the subtasks (docs/dashboard.md). */
const metricValue = (m) => {
  const n = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  if (m.kind !== 'histogram') return n(m.value);
  return `min ${n(m.min)}, p50 ${n(m.p50)}, mean ${n(m.mean)}, p95 ${n(m.p95)}, p99 ${n(m.p99)}, max ${n(m.max)}`;
};

// ── deployments ────────────────────────────────────────────────────────────────────────────────────────
const panels = new Map();
let latest; // the last deployments snapshot: a panel opened between two shows its metrics at once

function renderDeployments(snapshot) {
  latest = snapshot;
  $('#refreshed').textContent = `refreshed ${new Date(snapshot.at).toLocaleTimeString()}`;
  const body = $('#deployments tbody');
  body.replaceChildren();
  for (const d of snapshot.deployments) {
    const row = el('tr');
    row.dataset.name = d.name;
    const cell = (text, field, className) => {
      const td = el('td', text, className);
      if (field) td.dataset.field = field;
      row.append(td);
      return td;
    };
    cell(d.name + (snapshot.queries.includes(d.name) ? ' (query)' : ''), 'name');
    cell(d.state, 'state', `state-${d.state}`);
    cell(d.version ?? '–', 'version', 'num');
    cell(duration(d.uptimeMs), 'uptime', 'num');
    cell(rate(d.inRate), 'in-rate', 'num');
    cell(rate(d.outRate), 'out-rate', 'num');
    cell(d.watermark === null ? '–' : `${time(d.watermark)} (${duration(d.watermarkLagMs)})`, 'watermark');
    cell(d.consumerLag ?? '–', 'consumer-lag', 'num');
    cell(d.lastCheckpoint ? `#${d.lastCheckpoint.id}, ${duration(snapshot.at - d.lastCheckpoint.at)} ago` : '–', 'checkpoint');
    cell(d.restarts ?? '–', 'restarts', 'num');
    cell(d.expiresAt ? `${duration(Date.parse(d.expiresAt) - snapshot.at)} left` : d.idleTimeoutMs ? `idle ${duration(d.idleTimeoutMs)}` : '–', 'ttl');
    cell(d.owns.join(', '), 'owns', 'small');
    cell(d.attachedTo.map((a) => `${a.resource} (${a.role ?? '?'}, owner ${a.owner}${a.others.length ? `, also ${a.others.join(' ')}` : ''})`).join('; '), 'attached', 'small');
    const view = el('button', 'results');
    view.className = 'view';
    view.onclick = () => openPanel(d.name, { query: snapshot.queries.includes(d.name) });
    const actions = el('td');
    actions.append(view);
    row.append(actions);
    if (d.error) row.title = d.error;
    body.append(row);
    panels.get(d.name)?.metrics(d.handlerMetrics);
  }
}

function connectDeployments() {
  const source = new EventSource('/api/deployments/events');
  source.addEventListener('deployments', (e) => renderDeployments(JSON.parse(e.data)));
  source.addEventListener('query', (e) => {
    const event = JSON.parse(e.data);
    if (event.type === 'closed') panels.get(event.name)?.ended(`torn down: ${event.reason}`);
  });
}

// ── results panels ─────────────────────────────────────────────────────────────────────────────────────
function openPanel(name, { query = false } = {}) {
  if (panels.has(name)) return panels.get(name);
  const node = $('#panel-template').content.firstElementChild.cloneNode(true);
  node.dataset.deployment = name;
  $('.panel-title', node).textContent = query ? `query ${name}` : name;
  if (!query) $('.query-actions', node).remove();
  $('#panels').prepend(node);

  const chart = new Chart($('canvas', node), {
    type: 'scatter',
    data: { datasets: [] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      showLine: true,
      scales: { x: { type: 'linear', ticks: { callback: (v) => new Date(v).toISOString().slice(11, 19) } } },
      plugins: { legend: { position: 'right' } },
    },
  });
  const rows = new Map(); // upsertKey → { row, point, fired }
  let source;
  const status = (text) => ($('.panel-status', node).textContent = text);

  const seriesOf = (key) => {
    let set = chart.data.datasets.find((d) => d.label === key);
    if (!set) {
      set = { label: key, data: [] };
      chart.data.datasets.push(set);
    }
    return set;
  };
  const yOf = (value, windowFields) => {
    if (typeof value === 'number') return value;
    if (typeof value !== 'object' || value === null) return null;
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number' && !windowFields.includes(k)) return v;
    return null;
  };

  const onResult = (r) => {
    measured.latencies.push({ ms: Date.now() - r.timestamp, serverMs: r.readAt - r.timestamp, upsertKey: r.upsertKey });
    const windowFields = ['window', 'windowStart', 'windowEnd', 'start', 'end', 'sessionStart', 'sessionEnd', 'minute', 'hour', 'day'];
    const y = yOf(r.value, windowFields);
    const x = r.window.start ?? r.timestamp;
    let entry = rows.get(r.upsertKey);
    if (!entry) {
      const row = el('tr');
      row.dataset.key = r.upsertKey;
      row.append(el('td', r.key ?? '–'), el('td', r.window.start === null ? '–' : time(r.window.start)), el('td', ''), el('td', '', 'num'), el('td', ''));
      $('.results tbody', node).prepend(row);
      let point = null;
      if (y !== null) {
        point = { x, y };
        const set = seriesOf(r.key ?? r.topic);
        set.data.push(point);
        set.data.sort((a, b) => a.x - b.x);
      }
      entry = { row, point, fired: 0 };
      rows.set(r.upsertKey, entry);
    } else if (entry.point && y !== null) {
      entry.point.y = y; // the same window fired again: its point moves, no new one
    }
    entry.fired++;
    const cells = entry.row.children;
    cells[2].textContent = JSON.stringify(r.value);
    cells[2].dataset.field = 'value';
    cells[3].textContent = `×${entry.fired}`;
    cells[3].dataset.field = 'fired';
    cells[4].textContent = time(r.timestamp);
    entry.row.classList.remove('updated');
    void entry.row.offsetWidth;
    if (entry.fired > 1) entry.row.classList.add('updated');
    chart.update('none');
  };
  const onSide = (table) => (e) => {
    const r = JSON.parse(e.data);
    const row = el('tr');
    row.append(el('td', time(r.timestamp)), el('td', typeof r.value === 'string' ? r.value : JSON.stringify(r.value)), el('td', r.reason));
    $(`.${table} tbody`, node).prepend(row);
  };

  const connect = () => {
    source?.close();
    rows.clear();
    chart.data.datasets = [];
    chart.update('none');
    for (const t of ['results', 'late', 'dead-letters']) $(`.${t} tbody`, node).replaceChildren();
    const params = new URLSearchParams({ from: $('.from', node).value });
    const since = $('.since', node).value;
    const until = $('.until', node).value;
    if (since) params.set('since', String(Date.parse(since)));
    if (until) params.set('until', String(Date.parse(until)));
    if ($('.window', node).value.trim()) params.set('window', $('.window', node).value.trim());
    status('connecting…');
    source = new EventSource(`/api/results/${encodeURIComponent(name)}/events?${params}`);
    source.addEventListener('ready', () => status('live'));
    source.addEventListener('result', (e) => onResult(JSON.parse(e.data)));
    source.addEventListener('late', onSide('late'));
    source.addEventListener('dead-letter', onSide('dead-letters'));
    source.addEventListener('failure', (e) => {
      status(`failed: ${JSON.parse(e.data).message}`);
      source.close();
    });
  };

  const panel = {
    node,
    /** The handler's metrics, from each deployments snapshot (Flink refreshes its metric store every few seconds). */
    metrics(metrics) {
      const body = $('.metrics tbody', node);
      body.replaceChildren(
        ...metrics.map((m) => {
          const row = el('tr');
          row.dataset.metric = `${m.stage} ${m.name}`;
          const value = el('td', metricValue(m), 'num');
          value.dataset.field = 'value';
          row.append(el('td', m.stage), el('td', m.name), el('td', m.kind), value);
          return row;
        }),
      );
    },
    ended(text) {
      source?.close();
      status(text);
      node.dataset.ended = 'true';
    },
  };
  $('.reopen', node).onclick = connect;
  $('.close', node).onclick = async () => {
    source?.close();
    panels.delete(name);
    node.remove();
    chart.destroy();
    if (query) await fetch(`/api/queries/${name}`, { method: 'DELETE' });
  };
  const promote = $('.promote', node);
  if (promote) {
    promote.onclick = async () => {
      const file = $('.promote-file', node).value.trim();
      status('promoting…');
      const response = await fetch(`/api/queries/${name}/promote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ file }) });
      const body = await response.json();
      status(response.ok ? `promoted: ${body.file}, deployed as ${body.name}` : `promote failed: ${body.error.message}`);
    };
  }
  panels.set(name, panel);
  panel.metrics(latest?.deployments.find((d) => d.name === name)?.handlerMetrics ?? []);
  connect();
  return panel;
}

// ── ad-hoc query editor ────────────────────────────────────────────────────────────────────────────────
const code = $('#query-code');
const gutter = $('#query-gutter');

function template() {
  const id = Math.random().toString(16).slice(2, 8);
  return `import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';

interface Event { key: string; ts: number }

export default defineFunction({
  name: 'q-${id}',
  source: { topic: '${$('#query-topic').value || 'SOURCE'}', format: 'json' },
  sinks: { out: { topic: 'q-${id}-out' } },
  key: (e: Event) => e.key,
  time: eventTime({ timestamp: (e: Event) => e.ts, outOfOrderness: '0s' }),
  window: tumbling('10s'),
  aggregate: {
    create: () => 0,
    add: (count: number) => count + 1,
    result: (count: number, { key, window }) => ({ key, windowStart: window.start, count }),
  },
});
`;
}

function renderGutter(errorLines = new Map()) {
  const count = code.value.split('\n').length;
  gutter.replaceChildren();
  for (let i = 1; i <= count; i++) {
    const line = el('div', String(i), errorLines.has(i) ? 'error' : undefined);
    line.dataset.line = String(i);
    if (errorLines.has(i)) line.title = errorLines.get(i);
    gutter.append(line);
  }
  gutter.scrollTop = code.scrollTop;
}

async function loadTopics() {
  const { topics } = await (await fetch('/api/topics')).json();
  const select = $('#query-topic');
  const chosen = select.value;
  select.replaceChildren(...topics.map((t) => el('option', t)));
  if (topics.includes(chosen)) select.value = chosen;
}

$('#query-topic').onchange = () => {
  code.value = code.value.replace(/source:\s*\{\s*topic:\s*'[^']*'/, `source: { topic: '${$('#query-topic').value}'`);
  renderGutter();
};
code.addEventListener('input', () => renderGutter());
code.addEventListener('scroll', () => (gutter.scrollTop = code.scrollTop));

$('#query-deploy').onclick = async () => {
  const status = $('#query-status');
  const errors = $('#query-errors');
  errors.replaceChildren();
  renderGutter();
  status.textContent = 'building and deploying…';
  $('#query-deploy').disabled = true;
  try {
    const response = await fetch('/api/queries', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: code.value }) });
    const body = await response.json();
    if (response.ok) {
      status.textContent = `deployed ${body.name} (expires ${body.expiresAt ?? 'never'})`;
      openPanel(body.name, { query: true });
      code.value = template();
      renderGutter();
      return;
    }
    const failure = body.error;
    if (failure.kind === 'build') {
      status.textContent = 'build failed';
      const lines = new Map();
      for (const d of failure.diagnostics) {
        if (d.line !== null) lines.set(d.line, d.message);
        errors.append(el('li', `${d.line !== null ? `line ${d.line}${d.column !== null ? `:${d.column}` : ''}: ` : ''}${d.message}${d.hint ? `\n  hint: ${d.hint}` : ''}`));
      }
      renderGutter(lines);
    } else {
      status.textContent = `deploy failed${failure.step ? ` at step "${failure.step}"` : ''}`;
      errors.append(el('li', `${failure.step ? `step ${failure.step}: ` : ''}${failure.message}${failure.hint ? `\n  hint: ${failure.hint}` : ''}`));
    }
  } finally {
    $('#query-deploy').disabled = false;
  }
};

await loadTopics();
code.value = template();
renderGutter();
connectDeployments();
