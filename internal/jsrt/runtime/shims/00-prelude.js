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

  function require(name) {
    const key = String(name).replace(/^node:/, '');
    if (Object.prototype.hasOwnProperty.call(cache, key)) return cache[key];
    const f = factories[key];
    if (!f) {
      const err = new Error("Cannot find module '" + name + "': Sluice's JavaScript runtime supports only " +
        Object.keys(factories).sort().join(', ') + ' (docs/javascript.md)');
      err.code = 'MODULE_NOT_FOUND';
      throw err;
    }
    cache[key] = f(host, require);
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
