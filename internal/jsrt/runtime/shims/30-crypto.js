// require('crypto'): the hashes such scripts use, computed natively in
// the runtime (createHash, createHmac, pbkdf2, randomBytes,
// timingSafeEqual, randomUUID).
__sluiceDefine('crypto', function (host) {
  'use strict';
  function hexOf(data, enc) { return Buffer.from(data, enc)._hex; }
  function alg(a) { return String(a).toLowerCase().replace('-', ''); }
  function Hash(a, key) { this._alg = alg(a); this._key = key; this._data = ''; }
  Hash.prototype.update = function (data, enc) { this._data += hexOf(data, enc); return this; };
  Hash.prototype.digest = function (enc) {
    const h = this._key === undefined ? host.digest(this._alg, this._data) : host.hmac(this._alg, this._key, this._data);
    const b = new Buffer(h);
    return enc ? b.toString(enc) : b;
  };
  function answer(cb, fn) {
    let v;
    try { v = fn(); } catch (e) { if (typeof cb === 'function') { cb(e); return; } throw e; }
    if (typeof cb === 'function') cb(null, v);
  }
  function pbkdf2Sync(pw, salt, iter, len, digest) {
    return new Buffer(host.pbkdf2(hexOf(pw), hexOf(salt), iter, len, alg(digest || 'sha1')));
  }
  function randomBytes(n, cb) {
    const b = new Buffer(host.randomBytes(n));
    if (typeof cb === 'function') { cb(null, b); return; }
    return b;
  }
  return {
    createHash: function (a) { return new Hash(a); },
    createHmac: function (a, key) { return new Hash(a, hexOf(key)); },
    pbkdf2Sync: pbkdf2Sync,
    pbkdf2: function (pw, salt, iter, len, digest, cb) { answer(cb, function () { return pbkdf2Sync(pw, salt, iter, len, digest); }); },
    randomBytes: randomBytes,
    timingSafeEqual: function (a, b) {
      if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
      return host.timingSafeEqual(Buffer.from(a)._hex, Buffer.from(b)._hex);
    },
    randomUUID: function () {
      const h = host.randomBytes(16).split('');
      h[12] = '4'; h[16] = '89ab'[parseInt(h[16], 16) & 3];
      const s = h.join('');
      return s.slice(0, 8) + '-' + s.slice(8, 12) + '-' + s.slice(12, 16) + '-' + s.slice(16, 20) + '-' + s.slice(20);
    },
    getHashes: function () { return ['md5', 'sha1', 'sha256', 'sha384', 'sha512']; },
  };
});
