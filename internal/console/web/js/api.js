// api.js: the console's one way to the API. The credential lives in
// sessionStorage only (this tab), and goes in the Authorization header,
// never in a URL.

const KEY = 'sluice.session';

export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return s && s.token && s.role ? s : null;
  } catch {
    return null;
  }
}

export function setSession(role, token) {
  sessionStorage.setItem(KEY, JSON.stringify({ role, token }));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

// ApiError is a failed answer: the contract's {"error":{code,message,details}}
// or, when the answer had none, a code made from what happened.
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    // The API names the field at fault before ": " ("connection.uri: has no host").
    const m = /^([A-Za-z_][\w.]*(?:\[\d+\])?(?:\.[\w]+)*): /.exec(message || '');
    this.field = m ? m[1] : '';
  }
}

async function errorOf(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  const e = body && body.error;
  if (e && e.code) return new ApiError(res.status, e.code, e.message || '', e.details);
  return new ApiError(res.status, 'http_' + res.status, res.statusText || 'request failed');
}

function headers(extra) {
  const h = new Headers(extra || {});
  const s = session();
  if (s) h.set('Authorization', 'Bearer ' + s.token);
  return h;
}

// call sends a JSON request and returns the decoded answer (null for 204).
export async function call(method, path, body, opts = {}) {
  const init = { method, headers: headers(opts.headers), signal: opts.signal };
  if (body !== undefined) {
    init.headers.set('Content-Type', 'application/json');
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'the server did not answer: ' + err.message);
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return null;
  return res.json();
}

export const get = (path, opts) => call('GET', path, undefined, opts);
export const put = (path, body) => call('PUT', path, body);
export const post = (path, body) => call('POST', path, body);

// upload POSTs a file with XMLHttpRequest, whose upload events give the
// progress fetch cannot: onProgress(loaded, total) while the bytes go,
// onSent() once they are all sent (the server then compiles the module).
export function upload(path, file, onProgress, onSent) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    const s = session();
    if (s) xhr.setRequestHeader('Authorization', 'Bearer ' + s.token);
    // A JavaScript connector (docs/javascript.md) is uploaded as a script.
    const script = /\.m?js$/i.test(file.name || '') || /javascript/.test(file.type || '');
    xhr.setRequestHeader('Content-Type', script ? 'application/javascript' : 'application/wasm');
    xhr.upload.addEventListener('progress', (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded, ev.total);
    });
    xhr.upload.addEventListener('load', () => onSent());
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const e = body && body.error;
      reject(e && e.code
        ? new ApiError(xhr.status, e.code, e.message || '', e.details)
        : new ApiError(xhr.status, 'http_' + xhr.status, xhr.statusText || 'upload failed'));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network_error', 'the upload did not reach the server')));
    xhr.send(file);
  });
}

// stream reads a text/event-stream with fetch (so the Authorization
// header goes along, which EventSource cannot send) and calls onEvent
// for each event. It resolves when the stream ends or signal aborts.
export async function stream(path, onEvent, signal, lastEventId) {
  const h = headers({ Accept: 'text/event-stream' });
  if (lastEventId) h.set('Last-Event-ID', lastEventId);
  let res;
  try {
    res = await fetch(path, { headers: h, signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    throw new ApiError(0, 'network_error', 'the server did not answer: ' + err.message);
  }
  if (!res.ok) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let raw = ''; // a trailing "\r" waits: its "\n" may come in the next chunk
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      raw += value;
      const cut = raw.endsWith('\r') ? raw.length - 1 : raw.length;
      buf += raw.slice(0, cut).replace(/\r\n?/g, '\n');
      raw = raw.slice(cut);
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { id: '', event: 'message', data: '' };
        const data = [];
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const c = line.indexOf(':');
          const k = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? '' : line.slice(c + 1);
          if (v.startsWith(' ')) v = v.slice(1);
          if (k === 'data') data.push(v);
          else if (k === 'id') ev.id = v;
          else if (k === 'event') ev.event = v;
        }
        if (data.length) {
          ev.data = data.join('\n');
          onEvent(ev);
        }
      }
    }
  } catch (err) {
    if (err.name !== 'AbortError') throw err;
  }
}

export const enc = encodeURIComponent;
