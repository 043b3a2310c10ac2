// The JavaScript benchmark's Node baseline: a seed-dialect script (SCRIPT,
// e.g. api/testdata/js/seed-postgres.js), unchanged, run by Node with
// the real pg, as a custom-database sandbox would. MODE=client: the
// script's own `new Client` per call (a connection per call, as written);
// MODE=pool: pg's Client backed by one pg.Pool of POOL (4) connections
// (connect and end cost nothing, as in Sluice). Routes:
//   GET /users/{id} -> getUser({id}, context)
// DSN is the PostgreSQL URL (its search_path parameter is honoured).
'use strict';
const http = require('http');
const fs = require('fs');
const vm = require('vm');
const pg = require('pg');

const url = new URL(process.env.DSN);
const searchPath = url.searchParams.get('search_path');
url.searchParams.delete('search_path');
url.searchParams.delete('sslmode');
if (searchPath) process.env.PGOPTIONS = `-c search_path=${searchPath}`;

let pgModule = pg;
if (process.env.MODE === 'pool') {
  const pool = new pg.Pool({ connectionString: url.toString(), max: Number(process.env.POOL || 4) });
  class Client {
    connect() { return Promise.resolve(); }
    query(text, values) { return pool.query(text, values); }
    end() { return Promise.resolve(); }
  }
  pgModule = { Client, Pool: pg.Pool };
}

const sandbox = {
  env: { DB_CONNECTION_URI: url.toString() },
  require: (name) => (name === 'pg' ? pgModule : require(name)),
  console,
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(process.env.SCRIPT, 'utf8'), sandbox, { filename: 'script.js' });

function answer(res, status, body) {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

const server = http.createServer(async (req, res) => {
  const m = /^\/users\/(\d+)$/.exec(new URL(req.url, 'http://x').pathname);
  if (req.method !== 'GET' || !m) return answer(res, 404, { error: 'no such route' });
  try {
    const u = await sandbox.getUser({ id: m[1] }, { tenant: 'bench', connection: 'bench', requestId: 'r' });
    if (!u) return answer(res, 404, { error: 'user_not_found' });
    answer(res, 200, u);
  } catch (err) {
    answer(res, 502, { error: err.message });
  }
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const a = server.address();
  console.log(`listening on http://${a.address}:${a.port}`);
});
