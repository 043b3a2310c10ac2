// operator.js: the operator view: tenants, their quotas, their usage.
import { get, post, put, enc } from './api.js';
import { h, clear, field, showError, clearErrors, busy, table, fmtTime } from './ui.js';

// The quotas, their ranges and meaning (docs/contract.md "Quotas").
const QUOTAS = [
  ['memoryMB', 'Memory per instance (MiB)', 1, 4096],
  ['timeoutMs', 'Call time limit (ms)', 1, 600000],
  ['maxConcurrency', 'Calls at once', 1, 1024],
  ['callsPerMinute', 'Calls per minute', 1, 1000000],
  ['maxModuleBytes', 'Module size (bytes)', 1, 268435456],
  ['maxHostCalls', 'Host calls per call', 1, 100000],
  ['cpuMsPerMinute', 'Guest CPU ms per minute (0: unlimited)', 0, 61440000],
  ['uploadsPerMinute', 'Uploads per minute (0: unlimited)', 0, 1000000],
];

const $ = (s) => document.querySelector(s);
let current = null; // the tenant shown

export async function showOperator() {
  $('#operator').hidden = false;
  $('#tenant-create').addEventListener('submit', createTenant);
  $('#tenant-key-copy').addEventListener('click', copyKey);
  $('#quota-form').addEventListener('submit', saveQuotas);
  $('#usage-refresh').addEventListener('click', (ev) => busy(ev.currentTarget, loadUsage));
  await loadTenants();
}

async function loadTenants(select) {
  const box = $('#tenant-list').parentElement;
  clearErrors(box.querySelector('[data-field="_list"]'));
  let list;
  try {
    list = (await get('/v1/admin/tenants')).tenants;
  } catch (err) {
    showError(box, err, '_list');
    return;
  }
  clear($('#tenant-list'), list.length ? list.map((t) =>
    h('li', {}, h('button', {
      type: 'button', class: 'linkish', 'aria-current': current && current.id === t.id ? 'true' : null,
      dataset: { tenant: t.id }, onclick: () => openTenant(t),
    }, t.name, ' ', h('span', { class: 'muted' }, t.id)))) : h('li', { class: 'muted' }, 'No tenants yet.'));
  if (select) openTenant(list.find((t) => t.id === select));
}

async function createTenant(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  clearErrors(form);
  const name = form.elements.name.value.trim();
  if (!name) {
    showError(form, { code: 'invalid_input', message: 'name: is required', field: 'name' });
    return;
  }
  await busy(form.querySelector('button[type=submit]'), async () => {
    try {
      const t = await post('/v1/admin/tenants', { name });
      $('#tenant-key-value').value = t.apiKey;
      $('#tenant-key-status').textContent = `Tenant ${t.name} (${t.id}) created.`;
      $('#tenant-key').hidden = false;
      form.reset();
      await loadTenants(t.id);
      $('#tenant-key-value').focus();
      $('#tenant-key-value').select();
    } catch (err) {
      showError(form, err);
    }
  });
}

async function copyKey() {
  const input = $('#tenant-key-value');
  const status = $('#tenant-key-status');
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = 'Copied to the clipboard.';
  } catch (err) {
    input.focus();
    input.select();
    status.textContent = 'The browser refused the clipboard (' + err.message + '): the key is selected, press Ctrl+C.';
  }
}

function openTenant(t) {
  if (!t) return;
  current = t;
  for (const b of document.querySelectorAll('#tenant-list button')) {
    b.setAttribute('aria-current', b.dataset.tenant === t.id ? 'true' : 'false');
  }
  $('#tenant-detail').hidden = false;
  $('#tenant-detail-title').textContent = `Tenant ${t.name}`;
  const form = $('#quota-form');
  clearErrors(form);
  form.querySelector('.ok').hidden = true;
  const q = t.quotas || {};
  clear($('#quota-fields'),
    QUOTAS.map(([k, label, min, max]) => field(k, label,
      h('input', { type: 'number', name: k, min: String(min), max: String(max), step: '1', value: String(q[k] ?? ''), required: true }),
      `${min.toLocaleString()} to ${max.toLocaleString()}`)),
    field('allowPrivateNetworks', 'Allow private networks',
      h('input', { type: 'checkbox', name: 'allowPrivateNetworks', checked: !!q.allowPrivateNetworks }),
      'Lets the connections reach allowlisted private addresses (loopback only when named below).'),
    field('privateNetworks', 'Private networks granted (one per line)',
      h('textarea', { name: 'privateNetworks', rows: 3, spellcheck: 'false' }, (q.privateNetworks || []).join('\n')),
      'CIDRs or addresses, optionally with :port (e.g. 10.0.0.0/8, 127.0.0.1:5432); empty: every private range. At most 256.'));
  loadUsage();
}

async function saveQuotas(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  clearErrors(form);
  const ok = form.querySelector('.ok');
  ok.hidden = true;
  const body = {};
  for (const [k, label, min, max] of QUOTAS) {
    const raw = form.elements[k].value.trim();
    const n = Number(raw);
    if (raw === '' || !Number.isInteger(n) || n < min || n > max) {
      showError(form, { code: 'invalid_input', message: `${k}: must be a whole number from ${min} to ${max}`, field: k });
      form.elements[k].focus();
      return;
    }
    body[k] = n;
  }
  body.allowPrivateNetworks = form.elements.allowPrivateNetworks.checked;
  body.privateNetworks = form.elements.privateNetworks.value.split('\n').map((s) => s.trim()).filter(Boolean);
  await busy(form.querySelector('button[type=submit]'), async () => {
    try {
      const q = await put(`/v1/admin/tenants/${enc(current.id)}/quotas`, body);
      current.quotas = q;
      ok.textContent = 'Quotas saved: the tenant\'s next call uses them.';
      ok.hidden = false;
    } catch (err) {
      showError(form, err);
    }
  });
}

async function loadUsage() {
  const box = $('#usage');
  const section = $('#tenant-detail');
  clearErrors(section.querySelector('[data-field="_usage"]'));
  if (!current) return;
  let u;
  try {
    u = await get(`/v1/admin/tenants/${enc(current.id)}/usage`);
  } catch (err) {
    showError(section, err, '_usage');
    return;
  }
  const counts = (m) => Object.entries(m || {}).sort((a, b) => b[1] - a[1]);
  const errs = counts(u.errors);
  const rej = counts(u.quotaRejections);
  const errTotal = errs.reduce((s, [, n]) => s + n, 0);
  clear(box,
    h('p', { class: 'hint' }, `This node, since ${fmtTime(u.since)}.`),
    h('dl', { class: 'stats' },
      h('div', {}, h('dt', {}, 'Calls'), h('dd', { id: 'usage-calls' }, String(u.calls))),
      h('div', {}, h('dt', {}, 'Errors'), h('dd', { id: 'usage-errors' }, String(errTotal))),
      h('div', {}, h('dt', {}, 'Quota rejections'), h('dd', { id: 'usage-rejections' }, String(rej.reduce((s, [, n]) => s + n, 0))))),
    errs.length ? table('Errors by code', ['code', 'calls'], errs.map(([k, n]) => [h('code', {}, k), String(n)])) : h('p', { class: 'muted' }, 'No errors.'),
    rej.length ? table('Quota rejections by reason', ['reason', 'calls'], rej.map(([k, n]) => [k, String(n)])) : h('p', { class: 'muted' }, 'No quota rejections.'),
    counts(u.functions).length ? table('Calls by function', ['function', 'calls'], counts(u.functions).map(([k, n]) => [k, String(n)])) : null);
}
