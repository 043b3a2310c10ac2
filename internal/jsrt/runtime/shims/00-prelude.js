// The runtime's prelude: require, console, timers and process, over the
// host bridge (__sluice, removed once the shims are loaded).
(function (host, global) {
  'use strict';
  const factories = {};
  const cache = {};
  Object.defineProperty(global, '__sluiceDefine', {
    configurable: true,
    value: function (name, factory) { factories[name] = factory; },
  });

  // Modules by the name they were required by: a script requires in
  // every call, and this skips the name's normalization.
  const byName = Object.create(null);
  function require(name) {
    if (typeof name === 'string' && name in byName) return byName[name];
    // node:crypto is crypto; Auth0's mongodb@5.1.0 is mongodb.
    const key = String(name).replace(/^node:/, '').replace(/^([^@][^@]*)@[^/]*$/, '$1');
    if (Object.prototype.hasOwnProperty.call(cache, key)) {
      if (typeof name === 'string') byName[name] = cache[key];
      return cache[key];
    }
    const f = factories[key];
    if (!f) {
      const err = new Error("Cannot find module '" + name + "': Sluice's JavaScript runtime supports only " +
        Object.keys(factories).sort().join(', ') + ' (docs/javascript.md)');
      err.code = 'MODULE_NOT_FOUND';
      throw err;
    }
    cache[key] = f(host, require);
    if (typeof name === 'string') byName[name] = cache[key];
    return cache[key];
  }
  global.require = require;

  function format(args) {
    return Array.prototype.map.call(args, function (a) {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return a.stack || String(a);
      try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); }
    }).join(' ');
  }
  global.console = {
    debug: function () { host.log(0, format(arguments)); },
    log: function () { host.log(1, format(arguments)); },
    info: function () { host.log(1, format(arguments)); },
    warn: function () { host.log(2, format(arguments)); },
    error: function () { host.log(3, format(arguments)); },
  };

  global.setTimeout = function (fn, ms) {
    return host.setTimeout.apply(null, arguments);
  };
  global.clearTimeout = function (id) { if (id !== undefined && id !== null) host.clearTimeout(Number(id)); };
  global.setImmediate = function (fn) {
    const args = Array.prototype.slice.call(arguments, 1);
    return host.setTimeout.apply(null, [fn, 0].concat(args));
  };
  global.clearImmediate = global.clearTimeout;
  global.queueMicrotask = function (fn) { Promise.resolve().then(fn); };

  // URLSearchParams, for web-service scripts building query strings.
  function URLSearchParams(init) {
    if (!(this instanceof URLSearchParams)) return new URLSearchParams(init);
    this._pairs = [];
    const self = this;
    if (typeof init === 'string') {
      init.replace(/^\?/, '').split('&').filter(Boolean).forEach(function (kv) {
        const i = kv.indexOf('=');
        const dec = function (x) { return decodeURIComponent(x.replace(/\+/g, ' ')); };
        self._pairs.push(i < 0 ? [dec(kv), ''] : [dec(kv.slice(0, i)), dec(kv.slice(i + 1))]);
      });
    } else if (Array.isArray(init)) {
      init.forEach(function (p) { self._pairs.push([String(p[0]), String(p[1])]); });
    } else if (init && typeof init === 'object') {
      Object.keys(init).forEach(function (k) { self._pairs.push([k, String(init[k])]); });
    }
  }
  URLSearchParams.prototype.append = function (k, v) { this._pairs.push([String(k), String(v)]); };
  URLSearchParams.prototype.set = function (k, v) { this.delete(k); this.append(k, v); };
  URLSearchParams.prototype.delete = function (k) { this._pairs = this._pairs.filter(function (p) { return p[0] !== String(k); }); };
  URLSearchParams.prototype.get = function (k) { const p = this._pairs.find(function (p) { return p[0] === String(k); }); return p ? p[1] : null; };
  URLSearchParams.prototype.has = function (k) { return this.get(k) !== null; };
  URLSearchParams.prototype.forEach = function (fn) { this._pairs.forEach(function (p) { fn(p[1], p[0]); }); };
  URLSearchParams.prototype.toString = function () {
    return this._pairs.map(function (p) { return encodeURIComponent(p[0]) + '=' + encodeURIComponent(p[1]); }).join('&');
  };
  global.URLSearchParams = URLSearchParams;

  // Auth0's error classes, global in its scripts.
  class WrongUsernameOrPasswordError extends Error {
    constructor(userIdOrEmail, message) { super(message || 'Wrong email or password.'); this.name = 'WrongUsernameOrPasswordError'; this.userId = userIdOrEmail; }
  }
  class ValidationError extends Error {
    constructor(code, message) { super(message || code); this.name = 'ValidationError'; this.code = code; }
  }
  class UnauthorizedError extends Error {
    constructor(message) { super(message || 'Unauthorized'); this.name = 'UnauthorizedError'; }
  }
  class UserAlreadyExistsError extends Error {
    constructor(message) { super(message || 'The user already exists.'); this.name = 'UserAlreadyExistsError'; }
  }
  global.WrongUsernameOrPasswordError = WrongUsernameOrPasswordError;
  global.ValidationError = ValidationError;
  global.UnauthorizedError = UnauthorizedError;
  global.UserAlreadyExistsError = UserAlreadyExistsError;

  global.process = {
    env: global.env,
    nextTick: function (fn) {
      const args = Array.prototype.slice.call(arguments, 1);
      Promise.resolve().then(function () { fn.apply(null, args); });
    },
    exit: function () { throw new Error('process.exit is not available in Sluice: throw an Error or return a result'); },
    version: 'v18.0.0-sluice',
    versions: {},
    platform: 'sluice',
  };

})(__sluice, this);
