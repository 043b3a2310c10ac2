// run.js: the panels that run a connection's connector: Debug, Test,
// Logs (the production call log) and Migration.
import { get, post, stream, enc } from './api.js';
import { h, clear, field, showError, clearErrors, busy, table, fmtBytes, fmtMs, fmtTime } from './ui.js';
import { FUNCTIONS, EXAMPLES, checkInput } from './examples.js';

// The Test panel's success prompt (the seed page's "Test" button).
export const TEST_SUCCESS = 'Test succeeded: the Login script accepted this account and password.';

// traceTable shows a call's host calls and, under it, the total duration
// and memory.
export function traceTable(calls) {
  if (!calls || !calls.length) return h('p', { class: 'muted' }, 'No host calls.');
  return table(null, ['#', 'kind', 'op', 'target', 'statement', 'duration', 'rows', 'bytes in / out', 'denied / error'],
    calls.map((c, i) => [
      String(i + 1), c.kind || '', c.op || '', c.target || '',
      c.statement ? h('code', { class: 'stmt' }, c.statement) : '',
      fmtMs(c.durationMs), c.rows ? String(c.rows) : '',
      `${c.bytesIn ?? 0} / ${c.bytesOut ?? 0}`,
      c.denied ? h('strong', { class: 'denied' }, 'denied' + (c.error ? ': ' + c.error : ''))
        : c.error ? h('span', { class: 'bad' }, c.error) : '',
    ]), 'trace');
}

function logsList(logs) {
  if (!logs || !logs.length) return h('p', { class: 'muted' }, 'No logs.');
  return h('ol', { class: 'logs' }, logs.map((l) => h('li', { class: 'log-' + (l.level || 'info') },
    h('span', { class: 'level' }, l.level || 'info'), ' ', l.message)));
}

function errorBlock(e) {
  return h('div', { class: 'result-error', role: 'alert' },
    h('p', {}, h('code', { class: 'code' }, e.code || 'error'), ' ', e.message || ''),
    e.details && Object.keys(e.details).length
      ? h('pre', { class: 'json' }, JSON.stringify(e.details, null, 2)) : null);
}

// answerView shows a debug or test answer: result or error, warning,
// logs, trace, totals.
export function answerView(a, successText) {
  return h('div', { class: 'answer' },
    a.ok
      ? h('div', { class: 'result-ok', role: 'status' },
        successText ? h('p', { class: 'success' }, successText) : h('p', {}, 'Result'),
        h('pre', { class: 'json result' }, JSON.stringify(a.result, null, 2)))
      : errorBlock(a.error || {}),
    a.warning ? h('p', { class: 'warning', role: 'alert' }, 'Warning: ', a.warning) : null,
    h('p', { class: 'totals' }, `Total ${fmtMs(a.durationMs)}`, a.memoryBytes != null ? `, memory ${fmtBytes(a.memoryBytes)}` : ''),
    h('h5', {}, 'Logs'), logsList(a.logs),
    h('h5', {}, 'Host-call trace'), traceTable(a.hostCalls));
}

export function debugPanel(conn, versions) {
  const fnSel = h('select', { name: 'function' }, FUNCTIONS.map((f) => h('option', { value: f }, f)));
  const verSel = h('select', { name: 'version' },
    h('option', { value: '0' }, conn.activeVersion ? `active (v${conn.activeVersion})` : 'active (none: the seed script)'),
    (versions || []).map((v) => h('option', { value: String(v.version) }, `v${v.version}`)));
  const input = h('textarea', { name: 'input', rows: 8, spellcheck: 'false', class: 'code-input' });
  const fill = () => { input.value = JSON.stringify(EXAMPLES[fnSel.value], null, 2); };
  fnSel.addEventListener('change', fill);
  fill();
  const out = h('div', { class: 'out', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit' }, 'Run');
  const form = h('form', { class: 'panel-form', novalidate: true },
    h('div', { class: 'grid2' },
      field('function', 'Function', fnSel),
      field('version', 'Version', verSel)),
    field('input', 'Input (JSON; "context" is added for you)', input, 'Pre-filled with a valid example for the function.'),
    h('div', { class: 'actions field', dataset: { field: '_form' } }, run, h('p', { class: 'error', role: 'alert', hidden: true })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const fn = fnSel.value;
    const checked = checkInput(fn, input.value);
    if (checked.error) {
      showError(form, { code: 'invalid_input', message: 'input: ' + checked.error, field: 'input' });
      input.focus();
      return;
    }
    await busy(run, async () => {
      clear(out, h('p', { class: 'muted' }, 'Running…'));
      try {
        const a = await post(`/v1/connections/${enc(conn.name)}/debug`, { function: fn, input: checked.value, version: Number(verSel.value) });
        clear(out, answerView(a));
      } catch (err) {
        clear(out);
        showError(form, err);
      }
    });
  });
  return h('div', {}, form, out);
}

export function testPanel(conn) {
  const account = h('input', { name: 'account', autocomplete: 'off', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'off', required: true });
  const out = h('div', { class: 'out', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit' }, 'Test');
  const form = h('form', { class: 'panel-form', novalidate: true },
    h('p', { class: 'hint' }, 'Runs the Login script of the active version with an account of your database. The password is sent once and never stored.'),
    h('div', { class: 'grid2' },
      field('account', 'Account (email, username or phone)', account),
      field('password', 'Password', password)),
    h('div', { class: 'actions field', dataset: { field: '_form' } }, run, h('p', { class: 'error', role: 'alert', hidden: true })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!account.value.trim()) {
      showError(form, { code: 'invalid_input', message: 'account: is required (an email, username or phone)', field: 'account' });
      account.focus();
      return;
    }
    await busy(run, async () => {
      clear(out, h('p', { class: 'muted' }, 'Testing…'));
      try {
        const a = await post(`/v1/connections/${enc(conn.name)}/test`, { account: account.value.trim(), password: password.value });
        clear(out, answerView(a, TEST_SUCCESS));
      } catch (err) {
        clear(out);
        showError(form, err);
      }
    });
  });
  return h('div', {}, form, out);
}

// logsPanel lists the production call log with filters and a live tail
// (GET .../calls and .../calls/stream). stop() ends the tail.
export function logsPanel(conn) {
  const base = `/v1/connections/${enc(conn.name)}/calls`;
  const fn = h('select', { name: 'function' }, h('option', { value: '' }, 'any'), FUNCTIONS.map((f) => h('option', { value: f }, f)));
  const outcome = h('select', { name: 'outcome' }, h('option', { value: '' }, 'any'), h('option', { value: 'ok' }, 'ok'), h('option', { value: 'error' }, 'error'));
  const code = h('input', { name: 'code', placeholder: 'e.g. wrong_password', autocomplete: 'off' });
  const reqId = h('input', { name: 'requestId', autocomplete: 'off' });
  const body = h('tbody', {});
  const more = h('button', { type: 'button', hidden: true }, 'Older calls');
  const tail = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Start live tail');
  const tailStatus = h('p', { class: 'hint', role: 'status' });
  const seen = new Set();
  let next = '';
  let lastId = '';
  let ctrl = null;
  const form = h('form', { class: 'panel-form filters', novalidate: true },
    h('div', { class: 'grid4' },
      field('function', 'Function', fn), field('outcome', 'Outcome', outcome),
      field('code', 'Code', code), field('requestId', 'Request id', reqId)),
    h('div', { class: 'actions field', dataset: { field: '_form' } },
      h('button', { type: 'submit' }, 'Apply filters'), tail,
      h('p', { class: 'error', role: 'alert', hidden: true })),
    tailStatus);

  const matches = (c) => (!fn.value || c.function === fn.value) && (!outcome.value || c.outcome === outcome.value)
    && (!code.value.trim() || c.code === code.value.trim()) && (!reqId.value.trim() || c.requestId === reqId.value.trim());

  const row = (c) => {
    const details = h('tr', { class: 'call-details', hidden: true },
      h('td', { colspan: '7' }, c.message ? h('p', {}, c.message) : null,
        h('h5', {}, 'Logs'), logsList(c.logs), h('h5', {}, 'Host-call trace'), traceTable(c.hostCalls),
        h('p', { class: 'totals' }, `Total ${fmtMs(c.durationMs)}, memory ${fmtBytes(c.memoryBytes)}`)));
    const toggle = h('button', { type: 'button', class: 'linkish', 'aria-expanded': 'false' }, 'details');
    toggle.addEventListener('click', () => {
      details.hidden = !details.hidden;
      toggle.setAttribute('aria-expanded', String(!details.hidden));
    });
    const tr = h('tr', { class: 'call', dataset: { id: c.id, outcome: c.outcome } },
      h('td', {}, fmtTime(c.at)), h('td', {}, c.source || ''), h('td', {}, c.route || ''), h('td', {}, c.function || ''),
      h('td', {}, c.outcome === 'ok' ? h('span', { class: 'good' }, 'ok') : h('span', { class: 'bad' }, h('code', {}, c.code || 'error'))),
      h('td', {}, fmtMs(c.durationMs)), h('td', {}, toggle));
    return [tr, details];
  };

  const load = async (older) => {
    clearErrors(form);
    const q = new URLSearchParams();
    if (fn.value) q.set('function', fn.value);
    if (outcome.value) q.set('outcome', outcome.value);
    if (code.value.trim()) q.set('code', code.value.trim());
    if (reqId.value.trim()) q.set('requestId', reqId.value.trim());
    q.set('limit', '50');
    if (older && next) q.set('before', next);
    let page;
    try {
      page = await get(`${base}?${q}`);
    } catch (err) {
      showError(form, err);
      return;
    }
    if (!older) {
      body.replaceChildren();
      seen.clear();
    }
    for (const c of page.calls || []) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      body.append(...row(c));
    }
    if (!older && page.calls && page.calls.length && !lastId) lastId = page.calls[0].id;
    next = page.next || '';
    more.hidden = !next;
    if (!body.children.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: '7', class: 'muted' }, 'No calls match.')));
  };

  const stopTail = () => {
    if (ctrl) ctrl.abort();
    ctrl = null;
    tail.textContent = 'Start live tail';
    tail.setAttribute('aria-pressed', 'false');
  };
  const startTail = () => {
    ctrl = new AbortController();
    tail.textContent = 'Stop live tail';
    tail.setAttribute('aria-pressed', 'true');
    tailStatus.textContent = 'Live: new calls appear at the top.';
    const mine = ctrl;
    stream(`${base}/stream`, (ev) => {
      if (ev.event !== 'call') return;
      let c;
      try {
        c = JSON.parse(ev.data);
      } catch {
        return;
      }
      lastId = ev.id || c.id;
      if (seen.has(c.id) || !matches(c)) return;
      seen.add(c.id);
      const empty = body.querySelector('tr.empty');
      if (empty) empty.remove();
      body.prepend(...row(c));
    }, mine.signal, lastId).then(() => {
      // The server ended the stream (a restart, a proxy's timeout): resume
      // after the last call seen (Last-Event-ID).
      if (ctrl === mine) {
        tailStatus.textContent = 'Reconnecting…';
        setTimeout(() => { if (ctrl === mine) startTail(); }, 1000);
      }
    }, (err) => {
      if (ctrl === mine) stopTail();
      tailStatus.textContent = '';
      showError(form, err);
    });
  };

  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(false); });
  more.addEventListener('click', () => busy(more, () => load(true)));
  tail.addEventListener('click', () => (ctrl ? stopTail() : startTail()));
  load(false);
  const el = h('div', {}, form,
    h('div', { class: 'tablewrap' }, h('table', { class: 'calls' },
      h('caption', {}, 'Production calls, newest first'),
      h('thead', {}, h('tr', {}, ['when', 'source', 'route', 'function', 'outcome', 'duration', ''].map((c) => h('th', { scope: 'col' }, c)))),
      body)),
    more);
  return { el, stop: stopTail };
}

// migrationPanel shows a LAZY_MIGRATION connection's progress and runs
// the finish-migration job, polling while it runs. stop() ends polling.
export function migrationPanel(conn) {
  const path = `/v1/connections/${enc(conn.name)}/migration`;
  const stats = h('div', { 'aria-live': 'polite' });
  const job = h('div', { class: 'job', 'aria-live': 'polite' });
  const finish = h('button', { type: 'button' }, 'Finish migration');
  const refresh = h('button', { type: 'button' }, 'Refresh');
  const slot = h('div', { class: 'actions field', dataset: { field: '_form' } }, finish, refresh, h('p', { class: 'error', role: 'alert', hidden: true }));
  const el = h('div', {},
    h('p', { class: 'hint' }, 'Users move to Sluice one by one as they log in. Finishing the migration imports every legacy user not migrated yet (profiles without passwords: they set a new one) through listUsers, in the background; it resumes after a restart.'),
    stats, slot, job);
  let timer = 0;
  let stopped = false;
  // The status answer reads the user count before the job, so the answer
  // that first says "done" may count fewer users: read once more then.
  let again = false;

  const show = (m) => {
    const share = m.migratedShare != null ? (m.migratedShare * 100).toFixed(1) + ' %' : 'unknown';
    clear(stats, h('dl', { class: 'stats' },
      h('div', {}, h('dt', {}, 'Migrated users'), h('dd', { id: 'mig-migrated' }, String(m.migratedUsers))),
      h('div', {}, h('dt', {}, 'Legacy total'), h('dd', { id: 'mig-total' }, m.legacyTotal != null ? String(m.legacyTotal) : 'unknown')),
      h('div', {}, h('dt', {}, 'Share'), h('dd', { id: 'mig-share' }, share)),
      h('div', {}, h('dt', {}, 'Last migrated'), h('dd', {}, m.lastMigratedAt ? fmtTime(m.lastMigratedAt) : 'never'))));
    const j = m.finish;
    if (!j) {
      clear(job, h('p', { class: 'muted' }, 'No finish-migration job has run.'));
      return false;
    }
    const total = j.legacyTotal || 0;
    clear(job, h('h5', {}, 'Finish-migration job'),
      h('p', { id: 'job-status', class: 'status-' + j.status, dataset: { status: j.status } },
        `Status: ${j.status}. Imported ${j.imported}` + (total ? ` of ${total}` : '') + `; next page ${j.nextPage}.`),
      total ? h('progress', { max: String(total), value: String(Math.min(j.imported, total)), 'aria-label': 'imported users' }) : null,
      j.error ? h('p', { class: 'error' }, j.error) : null,
      j.updatedAt ? h('p', { class: 'hint' }, 'Updated ' + fmtTime(j.updatedAt)) : null);
    return j.status === 'running';
  };

  const load = async () => {
    clearErrors(slot);
    clearTimeout(timer);
    try {
      const running = show(await get(path));
      finish.disabled = running;
      if (running) again = true;
      if ((running || again) && !stopped) {
        if (!running) again = false;
        timer = setTimeout(load, running ? 700 : 0);
      }
    } catch (err) {
      showError(el, err);
    }
  };
  finish.addEventListener('click', () => busy(finish, async () => {
    clearErrors(slot);
    try {
      await post(`${path}/finish`);
      again = true;
      await load();
    } catch (err) {
      showError(el, err);
    }
  }));
  refresh.addEventListener('click', load);
  load();
  return { el, stop: () => { stopped = true; clearTimeout(timer); } };
}
