// require('mysql'), require('mysql2') and require('mysql2/promise'): over
// the host's sql.* calls on the connection's own pooled database (connect
// and end cost nothing), ? placeholders, callback and promise styles.
(function (host) {
  'use strict';
  const rowsFirst = /^[\s(]*(select|with|values|show|table|explain|describe|desc)\b/i;
  function toArg(v) {
    if (v === undefined) return null;
    if (v instanceof Date) return { $time: v.toISOString() };
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Buffer) return { $bytes: v.toString('base64') };
    return v;
  }
  function cell(v, type) {
    if (v === null || v === undefined) return null;
    switch (type) {
      case 'datetime': case 'timestamp': return new Date(v);
    }
    return v;
  }
  // run answers [results, fields] as the drivers do: rows for a query, an
  // OkPacket-like object for anything else.
  function run(sql, values) {
    if (sql && typeof sql === 'object') { values = sql.values !== undefined ? sql.values : values; sql = sql.sql; }
    sql = String(sql);
    if (values !== undefined && values !== null && !Array.isArray(values)) values = [values];
    const req = JSON.stringify({ sql: sql, args: (values || []).map(toArg) });
    if (rowsFirst.test(sql)) {
      const r = host.sql('sql.query', req);
      const cols = r.columns || [], types = r.types || [];
      const rows = (r.rows || []).map(function (row) {
        const o = {};
        for (let i = 0; i < cols.length; i++) o[cols[i]] = cell(row[i], types[i]);
        return o;
      });
      return [rows, cols.map(function (c, i) { return { name: c, type: types[i] }; })];
    }
    const r = host.sql('sql.exec', req);
    return [{ fieldCount: 0, affectedRows: r.rowsAffected, insertId: r.lastInsertId, changedRows: r.rowsAffected, warningStatus: 0 }, undefined];
  }
  function cbStyle(sql, values, cb) {
    if (typeof values === 'function') { cb = values; values = undefined; }
    let out;
    try { out = run(sql, values); } catch (e) {
      if (typeof cb === 'function') { cb(e); return; }
      throw e;
    }
    if (typeof cb === 'function') cb(null, out[0], out[1]);
    return out;
  }
  function noop(cb) { if (typeof cb === 'function') cb(null); }

  function Connection(config) { this.config = config || {}; this.threadId = 1; }
  Connection.prototype.connect = noop;
  Connection.prototype.query = function (sql, values, cb) { cbStyle(sql, values, cb); return this; };
  Connection.prototype.execute = Connection.prototype.query;
  Connection.prototype.end = noop;
  Connection.prototype.destroy = function () {};
  Connection.prototype.release = function () {};
  Connection.prototype.on = function () { return this; };
  Connection.prototype.escape = function (v) { return JSON.stringify(v); };
  Connection.prototype.promise = function () { return new PromiseConnection(this.config); };

  function Pool(config) { this.config = config || {}; }
  Pool.prototype.getConnection = function (cb) { cb(null, new Connection(this.config)); };
  Pool.prototype.query = Connection.prototype.query;
  Pool.prototype.execute = Connection.prototype.query;
  Pool.prototype.end = noop;
  Pool.prototype.on = function () { return this; };
  Pool.prototype.promise = function () { return new PromisePool(this.config); };

  function PromiseConnection(config) { this.config = config || {}; }
  PromiseConnection.prototype.query = function (sql, values) {
    return new Promise(function (ok) { ok(run(sql, values)); });
  };
  PromiseConnection.prototype.execute = PromiseConnection.prototype.query;
  PromiseConnection.prototype.connect = function () { return Promise.resolve(); };
  PromiseConnection.prototype.end = function () { return Promise.resolve(); };
  PromiseConnection.prototype.release = function () {};
  PromiseConnection.prototype.destroy = function () {};
  function PromisePool(config) { this.config = config || {}; }
  PromisePool.prototype.query = PromiseConnection.prototype.query;
  PromisePool.prototype.execute = PromiseConnection.prototype.query;
  PromisePool.prototype.getConnection = function () { return Promise.resolve(new PromiseConnection(this.config)); };
  PromisePool.prototype.end = function () { return Promise.resolve(); };

  // callbackAPI is the mysql module; calling it is createConnection, as
  // Auth0's templates do (mysql({host: ...})).
  function callbackAPI() {
    const m = function (c) { return new Connection(c); };
    m.createConnection = m;
    m.createPool = function (c) { return new Pool(c); };
    m.escape = function (v) { return JSON.stringify(v); };
    return m;
  }
  __sluiceDefine('mysql', callbackAPI);
  __sluiceDefine('mysql2', function () {
    const m = callbackAPI();
    m.promise = function () { return promiseAPI(); };
    return m;
  });
  function promiseAPI() {
    return {
      createConnection: function (c) { return Promise.resolve(new PromiseConnection(c)); },
      createPool: function (c) { return new PromisePool(c); },
    };
  }
  __sluiceDefine('mysql2/promise', promiseAPI);
})(__sluice);
