// require('mongodb'): MongoClient, db().collection() with findOne,
// find().skip().limit().toArray(), countDocuments, insertOne, updateOne,
// deleteOne (and their Many forms, aggregate) and ObjectId, over the
// host's mongo.* calls on the connection's own database.
__sluiceDefine('mongodb', function (host) {
  'use strict';
  function ObjectId(hex) {
    if (!(this instanceof ObjectId)) return new ObjectId(hex);
    if (hex instanceof ObjectId) hex = hex._hex;
    if (hex === undefined || hex === null) {
      const t = Math.floor(Date.now() / 1000).toString(16);
      hex = ('00000000' + t).slice(-8) + host.randomBytes(8);
    }
    hex = String(hex);
    if (!/^[0-9a-fA-F]{24}$/.test(hex)) throw new TypeError('Argument passed in must be a string of 24 hex characters');
    Object.defineProperty(this, '_hex', { value: hex.toLowerCase() });
  }
  ObjectId.prototype.toString = function () { return this._hex; };
  ObjectId.prototype.toHexString = ObjectId.prototype.toString;
  ObjectId.prototype.toJSON = ObjectId.prototype.toString;
  ObjectId.prototype.equals = function (o) { return o !== null && o !== undefined && String(o) === this._hex; };
  ObjectId.prototype.getTimestamp = function () { return new Date(parseInt(this._hex.slice(0, 8), 16) * 1000); };
  ObjectId.isValid = function (v) { return v instanceof ObjectId || /^[0-9a-fA-F]{24}$/.test(String(v)); };
  ObjectId.createFromHexString = function (h) { return new ObjectId(h); };

  // toEJSON turns a script's value into Extended JSON for the host.
  function toEJSON(v) {
    if (v === undefined) return null;
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof ObjectId) return { $oid: v._hex };
    if (v instanceof Date) return { $date: v.toISOString() };
    if (v instanceof RegExp) return { $regularExpression: { pattern: v.source, options: v.flags.replace(/[^imsx]/g, '') } };
    if (Array.isArray(v)) return v.map(toEJSON);
    const o = {};
    Object.keys(v).forEach(function (k) { if (v[k] !== undefined) o[k] = toEJSON(v[k]); });
    return o;
  }
  // fromEJSON turns the host's Extended JSON into script values.
  function fromEJSON(v) {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(fromEJSON);
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const k = keys[0], x = v[k];
      switch (k) {
        case '$oid': return new ObjectId(x);
        case '$date':
          if (typeof x === 'string') return new Date(x);
          if (x && x.$numberLong !== undefined) return new Date(Number(x.$numberLong));
          return new Date(x);
        case '$numberInt': case '$numberDouble': return Number(x);
        case '$numberLong': { const n = Number(x); return Number.isSafeInteger(n) ? n : x; }
        case '$numberDecimal': return x;
      }
    }
    const o = {};
    keys.forEach(function (k) { o[k] = fromEJSON(v[k]); });
    return o;
  }
  function call(op, req) { return host.sql('mongo.' + op, JSON.stringify(req)); }
  function answer(cb, fn) {
    const p = new Promise(function (ok) { ok(fn()); });
    if (typeof cb === 'function') { p.then(function (v) { cb(null, v); }, function (e) { cb(e); }); return undefined; }
    return p;
  }

  function Cursor(coll, filter, options) {
    this._coll = coll; this._req = { collection: coll, filter: toEJSON(filter || {}), relaxed: true };
    options = options || {};
    if (options.projection) this._req.projection = options.projection;
    if (options.sort) this._req.sort = options.sort;
    if (options.skip) this._req.skip = options.skip;
    if (options.limit) this._req.limit = options.limit;
  }
  Cursor.prototype.skip = function (n) { this._req.skip = n; return this; };
  Cursor.prototype.limit = function (n) { this._req.limit = n; return this; };
  Cursor.prototype.sort = function (s) { this._req.sort = s; return this; };
  Cursor.prototype.project = function (p) { this._req.projection = p; return this; };
  Cursor.prototype.toArray = function (cb) {
    const req = this._req;
    return answer(cb, function () { return fromEJSON(call('find', req).documents || []); });
  };

  function Collection(name) { this.collectionName = name; }
  Collection.prototype.findOne = function (filter, options, cb) {
    if (typeof options === 'function') { cb = options; options = undefined; }
    const req = { collection: this.collectionName, filter: toEJSON(filter || {}), relaxed: true };
    if (options && options.projection) req.projection = options.projection;
    return answer(cb, function () { return fromEJSON(call('findOne', req).document); });
  };
  Collection.prototype.find = function (filter, options) { return new Cursor(this.collectionName, filter, options); };
  Collection.prototype.countDocuments = function (filter, options, cb) {
    if (typeof options === 'function') cb = options;
    const req = { collection: this.collectionName, filter: toEJSON(filter || {}) };
    return answer(cb, function () { return call('countDocuments', req).count; });
  };
  Collection.prototype.count = Collection.prototype.countDocuments;
  Collection.prototype.insertOne = function (doc, options, cb) {
    if (typeof options === 'function') cb = options;
    const coll = this.collectionName;
    return answer(cb, function () {
      if (doc._id === undefined) doc._id = new ObjectId();
      const r = call('insertOne', { collection: coll, document: toEJSON(doc) });
      return { acknowledged: true, insertedId: fromEJSON(r.insertedId) };
    });
  };
  function update(op) {
    return function (filter, upd, options, cb) {
      if (typeof options === 'function') { cb = options; options = undefined; }
      const req = { collection: this.collectionName, filter: toEJSON(filter || {}), update: toEJSON(upd) };
      if (options && options.upsert) req.upsert = true;
      return answer(cb, function () {
        const r = call(op, req);
        const out = { acknowledged: true, matchedCount: r.matchedCount, modifiedCount: r.modifiedCount, upsertedCount: r.upsertedId ? 1 : 0 };
        if (r.upsertedId) out.upsertedId = fromEJSON(r.upsertedId);
        return out;
      });
    };
  }
  Collection.prototype.updateOne = update('updateOne');
  Collection.prototype.updateMany = update('updateMany');
  function del(op) {
    return function (filter, options, cb) {
      if (typeof options === 'function') cb = options;
      const req = { collection: this.collectionName, filter: toEJSON(filter || {}) };
      return answer(cb, function () { return { acknowledged: true, deletedCount: call(op, req).deletedCount }; });
    };
  }
  Collection.prototype.deleteOne = del('deleteOne');
  Collection.prototype.deleteMany = del('deleteMany');
  Collection.prototype.aggregate = function (pipeline) {
    const req = { collection: this.collectionName, pipeline: toEJSON(pipeline || []), relaxed: true };
    return { toArray: function (cb) { return answer(cb, function () { return fromEJSON(call('aggregate', req).documents || []); }); } };
  };

  function Db(name) { this.databaseName = name; }
  Db.prototype.collection = function (name) { return new Collection(String(name)); };

  function MongoClient(uri, options) {
    if (!(this instanceof MongoClient)) return new MongoClient(uri, options);
    this.uri = uri;
  }
  MongoClient.prototype.connect = function (cb) { const self = this; return answer(cb, function () { return self; }); };
  MongoClient.prototype.db = function (name) { return new Db(name); };
  MongoClient.prototype.close = function (force, cb) { if (typeof force === 'function') cb = force; return answer(cb, function () { return undefined; }); };
  MongoClient.prototype.isConnected = function () { return true; };
  MongoClient.connect = function (uri, options, cb) {
    if (typeof options === 'function') cb = options;
    const c = new MongoClient(uri, options);
    return answer(cb, function () { return c; });
  };
  return { MongoClient: MongoClient, ObjectId: ObjectId, ObjectID: ObjectId };
});
