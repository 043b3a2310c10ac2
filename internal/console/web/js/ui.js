// ui.js: small DOM helpers. Text goes in as text (textContent), never
// as HTML, so nothing a server or connector answers can run as script.

// h builds an element: h('p', {class: 'x', onclick: f}, 'text', child).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export const id = (p) => `${p}-${++uid}`;

// field makes a labelled control with its error slot: data-field names
// the API field whose errors appear beside it.
export function field(name, label, control, hint) {
  const cid = control.id || (control.id = id('f'));
  const err = h('p', { class: 'error', role: 'alert', hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: cid + '-hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field', dataset: { field: name } },
    control.type === 'checkbox'
      ? h('label', { class: 'check', for: cid }, control, ' ', label)
      : [h('label', { for: cid }, label), control],
    hintEl, err);
}

// errorSlot is the error paragraph of a form's or section's field
// named name, else of its closest one, else of its "_form" slot.
function errorSlot(root, name) {
  const fields = [...root.querySelectorAll('[data-field]')];
  const exact = fields.find((f) => f.dataset.field === name);
  if (exact) return exact;
  // egressAllowlist[2] -> egressAllowlist; env.API_KEY -> env; connection.port -> connection.port
  const base = name.replace(/\[\d+\]$/, '');
  const pref = fields
    .filter((f) => f.dataset.field !== '_form' && (base === f.dataset.field || base.startsWith(f.dataset.field + '.') || base.startsWith(f.dataset.field + '[')))
    .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
  return pref || fields.find((f) => f.dataset.field === '_form') || null;
}

// showError puts an error beside the control at fault (err.field),
// with its code and message, and marks the control invalid.
export function showError(root, err, slot) {
  const code = err.code || 'error';
  const msg = err.message || String(err);
  const holder = slot ? errorSlot(root, slot) : errorSlot(root, err.field || '_form');
  if (!holder) {
    console.error(err);
    return;
  }
  const p = holder.querySelector(':scope > .error, :scope > * > .error') || holder.appendChild(h('p', { class: 'error', role: 'alert' }));
  clear(p, h('code', { class: 'code' }, code), ' ', msg);
  if (err.details && Object.keys(err.details).length) {
    p.append(' ', h('span', { class: 'details' }, Object.entries(err.details).map(([k, v]) => `${k}: ${v}`).join('; ')));
  }
  p.hidden = false;
  p.dataset.code = code;
  const ctl = holder.querySelector('input, select, textarea');
  if (ctl && holder.dataset.field !== '_form') ctl.setAttribute('aria-invalid', 'true');
  return p;
}

export function clearErrors(root) {
  for (const p of root.querySelectorAll('.error[role="alert"]')) {
    p.hidden = true;
    p.replaceChildren();
    delete p.dataset.code;
  }
  for (const c of root.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}

// busy disables a button while work runs and re-enables it after.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function fmtBytes(n) {
  if (n == null) return '';
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  return (n / (1 << 20)).toFixed(1) + ' MiB';
}

export function fmtMs(n) {
  return n == null ? '' : (Math.round(n * 100) / 100) + ' ms';
}

export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString();
}

// table makes a table with a header row and one row per item.
export function table(caption, cols, rows, cls) {
  return h('div', { class: 'tablewrap' },
    h('table', { class: cls || '' },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}
