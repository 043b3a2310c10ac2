// fetch (global), require('node-fetch') and require('axios') over the
// host's http.request: the connection's egress allowlist is the gate.
(function (host, global) {
  'use strict';
  function headersOf(h) {
    const out = {};
    if (!h) return out;
    if (typeof h.forEach === 'function' && !Array.isArray(h) && h._map) { h.forEach(function (v, k) { out[k] = v; }); return out; }
    Object.keys(h).forEach(function (k) { if (h[k] !== undefined && h[k] !== null) out[k] = String(h[k]); });
    return out;
  }
  function request(method, url, headers, body) {
    const req = { method: String(method || 'GET').toUpperCase(), url: String(url), headers: headers, redirect: 'follow' };
    if (body !== undefined && body !== null) {
      if (body instanceof Buffer) { req.body = body.toString('base64'); req.bodyEncoding = 'base64'; } else req.body = String(body);
    }
    return host.call('http.request', JSON.stringify(req));
  }
  function Headers(raw) {
    this._map = {};
    const self = this;
    Object.keys(raw || {}).forEach(function (k) {
      const v = raw[k];
      self._map[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    });
  }
  Headers.prototype.get = function (k) { const v = this._map[String(k).toLowerCase()]; return v === undefined ? null : v; };
  Headers.prototype.has = function (k) { return this.get(k) !== null; };
  Headers.prototype.forEach = function (fn) { const m = this._map; Object.keys(m).forEach(function (k) { fn(m[k], k); }); };
  function Response(r, url) {
    this.status = r.status; this.ok = r.status >= 200 && r.status < 300;
    this.statusText = ''; this.url = url; this.headers = new Headers(r.headers);
    this._body = r.bodyEncoding === 'base64' ? Buffer.from(r.body || '', 'base64').toString('utf8') : (r.body || '');
  }
  Response.prototype.text = function () { return Promise.resolve(this._body); };
  Response.prototype.json = function () { const b = this._body; return new Promise(function (ok) { ok(JSON.parse(b)); }); };
  function fetch(url, opts) {
    opts = opts || {};
    return new Promise(function (ok) {
      let body = opts.body;
      const headers = headersOf(opts.headers);
      ok(new Response(request(opts.method, url, headers, body), String(url)));
    });
  }
  fetch.Headers = Headers; fetch.Response = Response; fetch.default = fetch;
  global.fetch = fetch;
  global.Headers = Headers;
  __sluiceDefine('node-fetch', function () { return fetch; });

  function axiosFactory(defaults) {
    defaults = defaults || {};
    function join(base, url) {
      if (!base || /^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
      return base.replace(/\/+$/, '') + '/' + String(url).replace(/^\/+/, '');
    }
    function run(config) {
      config = Object.assign({}, defaults, config, { headers: Object.assign({}, defaults.headers, config.headers) });
      let url = join(config.baseURL, config.url || '');
      if (config.params) {
        const q = Object.keys(config.params).filter(function (k) { return config.params[k] !== undefined; })
          .map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(config.params[k]); }).join('&');
        if (q) url += (url.indexOf('?') >= 0 ? '&' : '?') + q;
      }
      const headers = headersOf(config.headers);
      let body = config.data;
      if (body !== undefined && body !== null && typeof body === 'object' && !(body instanceof Buffer)) {
        body = JSON.stringify(body);
        if (!Object.keys(headers).some(function (k) { return k.toLowerCase() === 'content-type'; })) headers['Content-Type'] = 'application/json';
      }
      if (config.auth) headers.Authorization = 'Basic ' + Buffer.from(config.auth.username + ':' + config.auth.password).toString('base64');
      return new Promise(function (ok, fail) {
        const r = request(config.method || 'get', url, headers, body);
        const h = new Headers(r.headers);
        let data = r.bodyEncoding === 'base64' ? Buffer.from(r.body || '', 'base64').toString('utf8') : (r.body || '');
        if (config.responseType !== 'text') { try { data = JSON.parse(data); } catch (e) { /* not JSON: the text */ } }
        const res = { data: data, status: r.status, statusText: '', headers: h._map, config: config };
        const valid = config.validateStatus || function (s) { return s >= 200 && s < 300; };
        if (valid(r.status)) ok(res);
        else {
          const err = new Error('Request failed with status code ' + r.status);
          err.response = res; err.isAxiosError = true; err.config = config;
          fail(err);
        }
      });
    }
    function axios(a, b) { return typeof a === 'string' ? run(Object.assign({}, b, { url: a })) : run(a || {}); }
    axios.request = run;
    ['get', 'delete', 'head', 'options'].forEach(function (m) {
      axios[m] = function (url, config) { return run(Object.assign({}, config, { url: url, method: m })); };
    });
    ['post', 'put', 'patch'].forEach(function (m) {
      axios[m] = function (url, data, config) { return run(Object.assign({}, config, { url: url, method: m, data: data })); };
    });
    axios.create = function (cfg) { return axiosFactory(Object.assign({}, defaults, cfg)); };
    axios.defaults = defaults;
    axios.isAxiosError = function (e) { return !!(e && e.isAxiosError); };
    axios.default = axios;
    return axios;
  }
  __sluiceDefine('axios', function () { return axiosFactory({}); });
})(__sluice, this);
