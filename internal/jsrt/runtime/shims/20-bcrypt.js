// require('bcrypt') and require('bcryptjs'): over the host's native
// password.verify and password.hash.
(function () {
  'use strict';
  function factory(host) {
    function answer(cb, fn) {
      let v;
      try { v = fn(); } catch (e) {
        if (typeof cb === 'function') { cb(e); return undefined; }
        return Promise.reject(e);
      }
      if (typeof cb === 'function') { cb(null, v); return undefined; }
      return Promise.resolve(v);
    }
    function verify(pw, hash) {
      if (typeof hash !== 'string' || hash === '') return false;
      return host.call('password.verify', JSON.stringify({ hash: hash, password: String(pw) })).valid === true;
    }
    function make(pw) {
      return host.call('password.hash', JSON.stringify({ algorithm: 'bcrypt', password: String(pw) })).hash;
    }
    function salt(rounds) { return '$2b$' + (rounds || 10) + '$'; }
    return {
      compare: function (pw, hash, cb) { return answer(cb, function () { return verify(pw, hash); }); },
      compareSync: verify,
      hash: function (pw, s, cb) { if (typeof s === 'function') cb = s; return answer(cb, function () { return make(pw); }); },
      hashSync: function (pw) { return make(pw); },
      genSalt: function (rounds, cb) { if (typeof rounds === 'function') { cb = rounds; rounds = 10; } return answer(cb, function () { return salt(rounds); }); },
      genSaltSync: salt,
      getRounds: function (hash) { const m = /^\$2[abxy]?\$(\d+)\$/.exec(hash); return m ? Number(m[1]) : NaN; },
    };
  }
  __sluiceDefine('bcrypt', factory);
  __sluiceDefine('bcryptjs', factory);
})();
