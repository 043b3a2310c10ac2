// A small Buffer: bytes held as hex, enough for the hashes, salts and
// encodings custom-database scripts use (from, toString, concat, equals).
(function (host, global) {
  'use strict';
  function Buffer(hex) {
    if (!(this instanceof Buffer)) return new Buffer(hex);
    Object.defineProperty(this, '_hex', { value: hex || '' });
  }
  Object.defineProperty(Buffer.prototype, 'length', { get: function () { return this._hex.length / 2; } });
  Buffer.from = function (v, enc) {
    if (v instanceof Buffer) return new Buffer(v._hex);
    if (Array.isArray(v)) return new Buffer(v.map(function (b) { return ((b & 255) | 256).toString(16).slice(1); }).join(''));
    return new Buffer(host.bytesFrom(String(v), String(enc || 'utf8').toLowerCase().replace('-', '')));
  };
  Buffer.alloc = function (n) { return new Buffer('00'.repeat(n)); };
  Buffer.isBuffer = function (b) { return b instanceof Buffer; };
  Buffer.byteLength = function (s, enc) { return Buffer.from(s, enc).length; };
  Buffer.concat = function (list) { return new Buffer(list.map(function (b) { return Buffer.from(b)._hex; }).join('')); };
  Buffer.prototype.toString = function (enc) { return host.bytesTo(this._hex, String(enc || 'utf8').toLowerCase().replace('-', '')); };
  Buffer.prototype.toJSON = function () { return { type: 'Buffer', data: this.toArray() }; };
  Buffer.prototype.toArray = function () {
    const out = [];
    for (let i = 0; i < this._hex.length; i += 2) out.push(parseInt(this._hex.substr(i, 2), 16));
    return out;
  };
  Buffer.prototype.equals = function (o) { return o instanceof Buffer && o._hex === this._hex; };
  Buffer.prototype.slice = function (s, e) {
    const n = this.length;
    s = s === undefined ? 0 : (s < 0 ? Math.max(n + s, 0) : Math.min(s, n));
    e = e === undefined ? n : (e < 0 ? Math.max(n + e, 0) : Math.min(e, n));
    return new Buffer(this._hex.slice(2 * s, 2 * Math.max(e, s)));
  };
  Buffer.prototype.subarray = Buffer.prototype.slice;
  global.Buffer = Buffer;
  global.btoa = function (s) { return host.bytesTo(host.bytesFrom(String(s), 'latin1'), 'base64'); };
  global.atob = function (s) { return host.bytesTo(host.bytesFrom(String(s), 'base64'), 'latin1'); };
})(__sluice, this);
