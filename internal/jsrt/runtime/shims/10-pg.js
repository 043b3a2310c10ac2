// require('pg'): Client and Pool over the host's sql.* calls on the
// connection's own pooled database (connect and end cost nothing).
__sluiceDefine('pg', function (host) {
  'use strict';
  function answer(cb, fn) {
    let v;
    try { v = fn(); } catch (e) {
      if (typeof cb === 'function') { cb(e); return undefined; }
      return Promise.reject(e);
    }
    if (typeof cb === 'function') { cb(null, v); return undefined; }
    return Promise.resolve(v);
  }
  function toArg(v) {
    if (v === undefined) return null;
    if (v instanceof Date) return { $time: v.toISOString() };
    if (typeof v === 'bigint') return v.toString();
    return v;
  }
  // A query's rows come as pg's objects, made by the runtime (sqlRows):
  // int8 cells as strings, timestamps as Dates, fields when read.
  // Regular expressions made once: a literal in a function is a new
  // RegExp object at every call.
  const rowsFirst = /^[\s(]*(select|with|values|show|table|explain)\b/i;
  const returning = /\breturning\b/i;
  const firstWord = /^[\s(]*(\w+)/;
  function command(text) { const m = firstWord.exec(text); return m ? m[1].toUpperCase() : ''; }
  function run(text, values) {
    if (text && typeof text === 'object') { values = text.values; text = text.text; }
    text = String(text);
    const args = (values || []).map(toArg);
    const req = JSON.stringify({ sql: text, args: args });
    if (rowsFirst.test(text) || returning.test(text)) {
      return host.sqlRows('sql.query', req, command(text)); // pg's result, made by the runtime
    }
    const r = host.sql('sql.exec', req);
    return { command: command(text), rowCount: r.rowsAffected, rows: [], fields: [] };
  }
  function query(text, values, cb) {
    if (typeof values === 'function') { cb = values; values = undefined; }
    if (text && typeof text === 'object' && typeof text.callback === 'function') cb = text.callback;
    return answer(cb, function () { return run(text, values); });
  }
  function Client(config) {
    if (!(this instanceof Client)) return new Client(config);
    this.connectionParameters = config || {};
  }
  Client.prototype.connect = function (cb) { return answer(cb, function () { return undefined; }); };
  Client.prototype.query = query;
  Client.prototype.end = function (cb) { return answer(cb, function () { return undefined; }); };
  Client.prototype.release = function () {};
  Client.prototype.on = function () { return this; };
  Client.prototype.removeListener = function () { return this; };

  function Pool(config) {
    if (!(this instanceof Pool)) return new Pool(config);
    this.options = config || {};
    this.totalCount = 0; this.idleCount = 0; this.waitingCount = 0;
  }
  Pool.prototype.connect = function (cb) { const c = new Client(this.options); return answer(cb, function () { return c; }); };
  Pool.prototype.query = query;
  Pool.prototype.end = function (cb) { return answer(cb, function () { return undefined; }); };
  Pool.prototype.on = function () { return this; };

  const types = { setTypeParser: function () {}, getTypeParser: function () { return function (v) { return v; }; } };
  // pg's old pg.connect(config, function (err, client, done) {...}),
  // used by Auth0's PostgreSQL templates.
  function connect(config, cb) {
    const c = new Client(config);
    if (typeof cb === 'function') { cb(null, c, function () {}); return undefined; }
    return Promise.resolve(c);
  }
  return { Client: Client, Pool: Pool, connect: connect, types: types, native: null, defaults: {} };
});
