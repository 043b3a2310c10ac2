// tenant.js: the tenant view: connections, their settings and versions,
// and the tabs of the run panels (run.js).
import { get, put, post, upload, enc } from './api.js';
import { h, clear, field, showError, clearErrors, busy, table, fmtBytes, fmtTime } from './ui.js';
import { debugPanel, testPanel, logsPanel, migrationPanel } from './run.js';

const MASK = '********';
// The seed page's warning about enabling a connection.
export const ENABLE_WARNING = 'Once the custom database is enabled, it will take effect immediately. Before you write a custom script, users will be prompted with an error similar to "Please implement the Login script for this database connection" when trying to log in. This is an error prompted by the default script. Please modify the script or temporarily close the custom database connection.';
const REQUIRED = { LAZY_MIGRATION: ['login', 'getUser'], CUSTOM_USER_STORE: ['login', 'getUser', 'searchUser', 'createUser', 'updateUser', 'deleteUser', 'listUsers', 'validatePassword'] };

const $ = (s) => document.querySelector(s);
let publicIPs = null;
let active = null; // {conn, tab, stop}

export async function showTenant() {
  $('#tenant').hidden = false;
  $('#conn-new').addEventListener('click', () => openConnection(null));
  await loadConnections();
}

async function loadConnections(select) {
  const nav = $('#conn-list').parentElement;
  clearErrors(nav);
  let list;
  try {
    list = (await get('/v1/connections')).connections;
  } catch (err) {
    showError(nav, err, '_list');
    return [];
  }
  clear($('#conn-list'), list.length ? list.map((c) => h('li', {},
    h('button', {
      type: 'button', class: 'linkish', dataset: { conn: c.name },
      'aria-current': active && active.conn && active.conn.name === c.name ? 'true' : 'false',
      onclick: () => openConnection(c),
    }, c.name, ' ', h('span', { class: 'muted' }, `${c.mode} · ${c.dbType}${c.enabled ? '' : ' · disabled'} · v${c.activeVersion || '–'}`))))
    : h('li', { class: 'muted' }, 'No connections yet: create one.'));
  if (select) {
    const c = list.find((x) => x.name === select);
    if (c) openConnection(c, active && active.tab);
  }
  return list;
}

const TABS = [
  ['settings', 'Settings'], ['versions', 'Versions'], ['debug', 'Debug'], ['test', 'Test'], ['logs', 'Logs'], ['migration', 'Migration'],
];

async function openConnection(conn, tab) {
  if (active && active.stop) active.stop();
  active = { conn, tab: conn ? tab || 'settings' : 'settings', stop: null };
  for (const b of document.querySelectorAll('#conn-list button')) b.setAttribute('aria-current', String(!!conn && b.dataset.conn === conn.name));
  $('#conn-detail').hidden = false;
  $('#conn-title').textContent = conn ? `Connection ${conn.name}` : 'New connection';
  const tabs = $('#tabs');
  const shown = conn ? TABS.filter(([k]) => k !== 'migration' || conn.mode === 'LAZY_MIGRATION') : TABS.slice(0, 1);
  clear(tabs, shown.map(([k, label]) => h('button', {
    type: 'button', role: 'tab', id: 'tab-' + k, dataset: { tab: k }, 'aria-controls': 'panels',
    'aria-selected': String(k === active.tab), tabindex: k === active.tab ? '0' : '-1',
    onclick: () => selectTab(k),
  }, label)));
  tabs.onkeydown = (ev) => {
    const bs = [...tabs.querySelectorAll('[role=tab]')];
    const i = bs.indexOf(document.activeElement);
    if (i < 0) return;
    let j = -1;
    if (ev.key === 'ArrowRight') j = (i + 1) % bs.length;
    if (ev.key === 'ArrowLeft') j = (i - 1 + bs.length) % bs.length;
    if (ev.key === 'Home') j = 0;
    if (ev.key === 'End') j = bs.length - 1;
    if (j >= 0) {
      ev.preventDefault();
      bs[j].focus();
      selectTab(bs[j].dataset.tab);
    }
  };
  await selectTab(active.tab);
}

async function selectTab(tab) {
  if (active.stop) active.stop();
  active.stop = null;
  active.tab = tab;
  for (const b of document.querySelectorAll('#tabs [role=tab]')) {
    const on = b.dataset.tab === tab;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
  }
  const panels = $('#panels');
  panels.setAttribute('role', 'tabpanel');
  panels.setAttribute('aria-labelledby', 'tab-' + tab);
  panels.dataset.panel = tab;
  const conn = active.conn;
  clear(panels, h('p', { class: 'muted' }, 'Loading…'));
  switch (tab) {
    case 'settings': clear(panels, await settingsPanel(conn)); break;
    case 'versions': clear(panels, await versionsPanel(conn)); break;
    case 'debug': {
      let versions = [];
      try {
        versions = (await get(`/v1/connections/${enc(conn.name)}/versions`)).versions;
      } catch {
        // the panel still runs the active version
      }
      clear(panels, debugPanel(conn, versions));
      break;
    }
    case 'test': clear(panels, testPanel(conn)); break;
    case 'logs': {
      const p = logsPanel(conn);
      active.stop = p.stop;
      clear(panels, p.el);
      break;
    }
    case 'migration': {
      const p = migrationPanel(conn);
      active.stop = p.stop;
      clear(panels, p.el);
      break;
    }
  }
}

function envRow(name, v) {
  const secretOld = v === MASK;
  const plain = v && typeof v === 'object';
  const nameIn = h('input', { name: 'envName', value: name || '', 'aria-label': 'variable name', placeholder: 'NAME', autocomplete: 'off', spellcheck: 'false' });
  const valueIn = h('input', {
    name: 'envValue', value: plain ? v.value : '', 'aria-label': 'value', autocomplete: 'off',
    type: plain ? 'text' : 'password', placeholder: secretOld ? 'unchanged (secret)' : 'value',
  });
  const secret = h('input', { type: 'checkbox', name: 'envSecret', checked: !plain, 'aria-label': 'secret' });
  secret.addEventListener('change', () => { valueIn.type = secret.checked ? 'password' : 'text'; });
  const row = h('div', { class: 'envrow', dataset: { had: secretOld ? 'secret' : '' } },
    nameIn, valueIn, h('label', { class: 'check' }, secret, ' secret'),
    h('button', { type: 'button', class: 'small', 'aria-label': 'remove variable', onclick: () => row.remove() }, 'Remove'));
  return row;
}

async function settingsPanel(conn) {
  if (publicIPs === null) {
    try {
      publicIPs = (await get('/api/system/public-ips')).ips;
    } catch {
      publicIPs = [];
    }
  }
  const c = conn || { mode: 'LAZY_MIGRATION', dbType: 'postgres', connection: {}, env: {}, egressAllowlist: [], enabled: true };
  const p = c.connection || {};
  const usesURI = !conn || !!p.uri;
  const name = h('input', { name: 'name', required: true, maxlength: '64', autocomplete: 'off', value: conn ? conn.name : '', readOnly: !!conn, spellcheck: 'false' });
  const mode = h('select', { name: 'mode' },
    h('option', { value: 'LAZY_MIGRATION', selected: c.mode === 'LAZY_MIGRATION' }, 'Lazy migration (LAZY_MIGRATION): needs login, getUser'),
    h('option', { value: 'CUSTOM_USER_STORE', selected: c.mode === 'CUSTOM_USER_STORE' }, 'Your database only (CUSTOM_USER_STORE): needs all eight functions'));
  const dbType = h('select', { name: 'dbType' }, ['postgres', 'mysql', 'mongodb', 'http'].map((t) => h('option', { value: t, selected: c.dbType === t }, t)));
  const radio = (v, label) => h('label', { class: 'check' }, h('input', { type: 'radio', name: 'connForm', value: v, checked: (v === 'uri') === usesURI }), ' ', label);
  const uri = h('input', { name: 'uri', value: p.uri || '', autocomplete: 'off', spellcheck: 'false', placeholder: 'postgres://user:password@db.example.com:5432/users' });
  const host = h('input', { name: 'host', value: p.host || '', autocomplete: 'off', spellcheck: 'false' });
  const port = h('input', { name: 'port', type: 'number', min: '1', max: '65535', value: p.port ? String(p.port) : '' });
  const user = h('input', { name: 'username', value: p.username || '', autocomplete: 'off' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', placeholder: p.password ? 'unchanged' : '' });
  const db = h('input', { name: 'database', value: p.database || '', autocomplete: 'off' });
  const uriBox = h('div', {}, field('connection.uri', 'Connection URI', uri, 'protocol://username:password@host:port/database; a stored password shows as ******** and is kept when you save it unchanged.'));
  const partsBox = h('div', { class: 'grid2' },
    field('connection.host', 'Host', host), field('connection.port', 'Port', port),
    field('connection.username', 'Username', user),
    field('connection.password', 'Password', pass, p.password ? 'Leave blank to keep the stored password.' : null),
    field('connection.database', 'Database', db));
  const envBox = h('div', { class: 'envrows' }, Object.entries(c.env || {}).map(([k, v]) => envRow(k, v)));
  const allow = h('textarea', { name: 'egressAllowlist', rows: 3, spellcheck: 'false' }, (c.egressAllowlist || []).join('\n'));
  const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: c.enabled !== false });
  const warn = h('p', { class: 'warning', id: 'enable-warning' }, ENABLE_WARNING);
  const ok = h('p', { class: 'ok', role: 'status', hidden: true });
  const save = h('button', { type: 'submit' }, conn ? 'Save' : 'Create connection');
  const form = h('form', { class: 'panel-form', novalidate: true },
    field('name', 'Name', name, conn ? null : '1 to 64 letters, digits, _ or -.'),
    field('mode', 'Mode', mode), field('dbType', 'Database type', dbType),
    h('fieldset', { class: 'field', dataset: { field: 'connection' } },
      h('legend', {}, 'Connection'), h('div', { class: 'radios' }, radio('uri', 'Connection URI'), radio('fields', 'Host, port, username, password, database')),
      uriBox, partsBox, h('p', { class: 'error', role: 'alert', hidden: true })),
    h('fieldset', { class: 'field', dataset: { field: 'env' } },
      h('legend', {}, 'Environment variables'),
      h('p', { class: 'hint' }, 'Seen by the connector as environment variables. A secret is stored encrypted and never shown again; a plain setting is shown as is.'),
      envBox,
      h('button', { type: 'button', class: 'small', onclick: () => envBox.append(envRow('', '')) }, 'Add variable'),
      h('p', { class: 'error', role: 'alert', hidden: true })),
    field('egressAllowlist', 'Egress allowlist (one entry per line)', allow,
      'The only destinations the connector may reach: 203.0.113.0/24, db.example.com:5432, [2001:db8::1]:5432.'),
    h('div', { class: 'notice' }, h('p', {}, 'If your database is behind a firewall, open it to the server\'s egress IPs: ',
      publicIPs.length ? h('span', { id: 'public-ips' }, publicIPs.map((ip, i) => [i ? ', ' : '', h('code', {}, ip)])) : h('span', { id: 'public-ips' }, 'none configured (sluice serve --public-ips)'))),
    field('enabled', 'Enabled', enabled), warn,
    h('div', { class: 'actions field', dataset: { field: '_form' } }, save, ok, h('p', { class: 'error', role: 'alert', hidden: true })));
  const syncForm = () => {
    const byURI = form.elements.connForm.value === 'uri';
    uriBox.hidden = !byURI;
    partsBox.hidden = byURI;
  };
  for (const r of form.querySelectorAll('input[name=connForm]')) r.addEventListener('change', syncForm);
  syncForm();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    ok.hidden = true;
    const n = name.value.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(n)) {
      showError(form, { code: 'invalid_input', message: "name: must be 1 to 64 letters, digits, '_' or '-', starting with a letter or digit", field: 'name' });
      name.focus();
      return;
    }
    const body = { mode: mode.value, dbType: dbType.value, env: {}, egressAllowlist: allow.value.split('\n').map((s) => s.trim()).filter(Boolean), enabled: enabled.checked };
    if (form.elements.connForm.value === 'uri') {
      body.connection = { uri: uri.value.trim() };
    } else {
      body.connection = { host: host.value.trim(), port: port.value ? Number(port.value) : 0, username: user.value, database: db.value };
      if (pass.value) body.connection.password = pass.value;
      else if (p.password) body.connection.password = MASK; // unchanged
    }
    for (const row of envBox.querySelectorAll('.envrow')) {
      const k = row.querySelector('[name=envName]').value.trim();
      const v = row.querySelector('[name=envValue]').value;
      const secret = row.querySelector('[name=envSecret]').checked;
      if (!k) continue;
      if (secret) body.env[k] = v === '' && row.dataset.had === 'secret' ? { secret: true } : v;
      else body.env[k] = { value: v, secret: false };
    }
    await saveConnection(n, body, false);
  });
  // saveConnection PUTs the configuration; a mode the active version
  // cannot serve is refused (mode_not_satisfied) and offered again with
  // force, after a warning.
  const saveConnection = (n, body, force) => busy(save, async () => {
    clearErrors(form);
    for (const old of form.querySelectorAll('.confirm')) old.remove();
    try {
      const saved = await put(`/v1/connections/${enc(n)}${force ? '?force=true' : ''}`, body);
      active.conn = saved;
      ok.textContent = conn ? 'Saved.' : 'Connection created.';
      ok.hidden = false;
      await loadConnections(n);
      const fresh = document.querySelector('#panels .ok');
      if (fresh) {
        fresh.textContent = conn ? 'Saved.' : 'Connection created.';
        fresh.hidden = false;
      }
    } catch (err) {
      showError(form, err);
      if (err.code === 'mode_not_satisfied') {
        const yes = h('button', { type: 'button', class: 'small danger' }, 'Save anyway');
        const box = h('div', { class: 'confirm warning', role: 'alert' },
          h('p', {}, `The active version v${err.details.version || '?'} cannot serve ${err.details.mode || body.mode}: it lacks ${err.details.missing || 'some functions'}. Saved anyway, those calls fail with not_implemented at once.`), yes);
        yes.addEventListener('click', () => saveConnection(n, body, true));
        save.parentElement.append(box);
        yes.focus();
      }
    }
  });
  return form;
}

async function versionsPanel(conn) {
  const path = `/v1/connections/${enc(conn.name)}/versions`;
  const picker = h('input', { type: 'file', accept: '.wasm,.js,.mjs,application/wasm,application/javascript,text/javascript', id: 'wasm-file', class: 'visually-hidden' });
  const drop = h('div', { class: 'drop', id: 'drop' },
    h('p', {}, 'Drop a .wasm module or a .js script here, or '),
    h('label', { for: 'wasm-file', class: 'button' }, 'choose a file'), picker);
  const activate = h('input', { type: 'checkbox', name: 'activate' });
  const progress = h('progress', { max: '100', value: '0', hidden: true, 'aria-label': 'upload progress' });
  const status = h('p', { class: 'hint', role: 'status', id: 'upload-status' });
  const result = h('div', { id: 'upload-result', 'aria-live': 'polite' });
  const slot = h('div', { class: 'field', dataset: { field: '_form' } }, h('p', { class: 'error', role: 'alert', hidden: true }));
  const listBox = h('div', { id: 'versions' });
  const listSlot = h('div', { class: 'field', dataset: { field: '_list' } }, h('p', { class: 'error', role: 'alert', hidden: true }));
  const el = h('div', {},
    h('section', { class: 'field', dataset: { field: '_upload' } }, h('h4', {}, 'Upload a version'), drop,
      field('activate', 'Activate it now (even when another version serves)', activate), progress, status, slot, result),
    h('section', {}, h('h4', {}, 'Versions'), listSlot, listBox));

  const send = async (file) => {
    clearErrors(el);
    clear(result);
    if (!file) return;
    progress.hidden = false;
    progress.value = 0;
    progress.max = file.size || 1;
    status.textContent = `Uploading ${file.name} (${fmtBytes(file.size)})…`;
    try {
      const v = await upload(path + (activate.checked ? '?activate=true' : ''), file,
        (loaded, total) => { progress.max = total; progress.value = loaded; status.textContent = `Uploading ${file.name}: ${Math.round(100 * loaded / total)} %`; },
        () => { progress.removeAttribute('value'); status.textContent = 'Uploaded; the server is compiling and checking the module…'; });
      progress.hidden = true;
      status.textContent = `Version ${v.version} stored${v.active ? ' and active' : ''}.`;
      const missing = v.missingForMode || [];
      clear(result, h('dl', { class: 'kv' },
        h('dt', {}, 'Version'), h('dd', {}, 'v' + v.version),
        h('dt', {}, 'SHA-256'), h('dd', {}, h('code', { class: 'hash' }, v.sha256)),
        h('dt', {}, 'Functions found'), h('dd', { id: 'upload-functions' }, (v.functions || []).join(', ') || 'none'),
        h('dt', {}, `Missing for ${conn.mode}`), h('dd', { id: 'upload-missing', class: missing.length ? 'bad' : 'good' }, missing.length ? missing.join(', ') : 'nothing: it can serve the mode')),
      v.notActivated ? h('p', { class: 'warning' }, v.notActivated) : null,
      v.pruned && v.pruned.length ? h('p', { class: 'hint' }, 'Pruned old versions: ' + v.pruned.map((n) => 'v' + n).join(', ')) : null);
      await refreshConn();
      await list();
      loadConnections();
    } catch (err) {
      progress.hidden = true;
      status.textContent = '';
      showError(el, err, '_form');
    }
    picker.value = '';
  };
  picker.addEventListener('change', () => send(picker.files[0]));
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    send(ev.dataTransfer.files[0]);
  });

  const refreshConn = async () => {
    try {
      active.conn = conn = await get(`/v1/connections/${enc(conn.name)}`);
    } catch {
      // the list below reports errors
    }
  };

  const doActivate = async (v, force, btn, cell) => {
    clearErrors(listBox);
    try {
      await post(`${path}/${v.version}/activate${force ? '?force=true' : ''}`);
      await refreshConn();
      await list(`v${v.version} is now active.`);
      loadConnections();
    } catch (err) {
      showError(cell, err, '_row');
      btn.focus();
    }
  };

  const list = async (note) => {
    clearErrors(listSlot);
    let vs;
    try {
      vs = await get(path);
    } catch (err) {
      showError(el, err, '_list');
      return;
    }
    const need = REQUIRED[conn.mode] || [];
    clear(listBox, note ? h('p', { class: 'ok', role: 'status', id: 'activate-status' }, note) : null,
      vs.versions.length ? table(null, ['version', 'sha256', 'size', 'functions', 'uploaded', ''],
        vs.versions.slice().reverse().map((v) => {
          const missing = need.filter((f) => !(v.functions || []).includes(f));
          const cell = h('div', { class: 'field rowactions', dataset: { field: '_row' } });
          if (v.version === vs.activeVersion) {
            cell.append(h('strong', { class: 'good' }, 'active'));
          } else {
            const label = v.version < vs.activeVersion ? `Roll back to v${v.version}` : `Activate v${v.version}`;
            const btn = h('button', { type: 'button', class: 'small', dataset: { version: String(v.version) } }, label);
            btn.addEventListener('click', () => {
              if (!missing.length) return busy(btn, () => doActivate(v, false, btn, cell));
              // A version that cannot serve the mode: warn, then let the tenant force it.
              if (cell.querySelector('.confirm')) return;
              const yes = h('button', { type: 'button', class: 'small danger' }, 'Activate anyway');
              const no = h('button', { type: 'button', class: 'small' }, 'Cancel');
              const box = h('div', { class: 'confirm warning', role: 'alert' },
                h('p', {}, `v${v.version} cannot serve ${conn.mode}: it lacks ${missing.join(', ')}. Activated, those calls fail with not_implemented at once.`),
                yes, ' ', no);
              yes.addEventListener('click', () => busy(yes, () => doActivate(v, true, yes, cell)));
              no.addEventListener('click', () => { box.remove(); btn.focus(); });
              cell.append(box);
              yes.focus();
            });
            cell.append(btn);
          }
          cell.append(h('p', { class: 'error', role: 'alert', hidden: true }));
          return [
            'v' + v.version, h('code', { class: 'hash', title: v.sha256 }, v.sha256.slice(0, 12) + '…'), fmtBytes(v.size),
            h('span', {}, (v.functions || []).join(', '), missing.length ? h('span', { class: 'bad' }, ` (missing ${missing.join(', ')})`) : null),
            fmtTime(v.createdAt), cell,
          ];
        }), 'versions') : h('p', { class: 'muted' }, 'No versions yet: the seed script answers every call with not_implemented.'));
  };
  await list();
  return el;
}
