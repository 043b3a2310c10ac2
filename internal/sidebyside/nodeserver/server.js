// The side-by-side benchmark's Node baseline: node's http server and a
// pg.Pool running the SQL examples/postgres runs (what a careful
// Auth0-style script approaches). Routes as in ../goserver:
//   GET /users/{id}, GET /users?email=E
// DSN is the PostgreSQL URL (its search_path parameter is honoured);
// POOL the pool size (4). Prints "listening on http://ADDR".
'use strict';
const http = require('http');
const { Pool } = require('pg');

const columns = `id, coalesce(email, ''), email_verified, coalesce(username, ''),
	coalesce(phone, ''), phone_verified, coalesce(nickname, ''), coalesce(name, ''),
	coalesce(given_name, ''), coalesce(family_name, ''), coalesce(photo, ''),
	coalesce(gender, ''), coalesce(birthdate, ''), coalesce(address, ''),
	coalesce(company, ''), coalesce(website, ''), blocked, coalesce(custom_data, '{}')`;
const byEmail = `SELECT ${columns}, coalesce(password_hash, '') FROM users WHERE lower(email) = lower($1) ORDER BY id LIMIT 1`;
const byID = `SELECT ${columns}, coalesce(password_hash, '') FROM users WHERE id = $1 ORDER BY id LIMIT 1`;

const url = new URL(process.env.DSN);
const searchPath = url.searchParams.get('search_path');
url.searchParams.delete('search_path');
url.searchParams.delete('sslmode');
const pool = new Pool({
  connectionString: url.toString(),
  options: searchPath ? `-c search_path=${searchPath}` : undefined,
  max: Number(process.env.POOL || 4),
});

// profile is the row as Sluice answers it: empty fields left out.
function profile(r) {
  const names = ['id', 'email', 'emailVerified', 'username', 'phone', 'phoneVerified', 'nickname', 'name',
    'givenName', 'familyName', 'photo', 'gender', 'birthdate', 'address', 'company', 'website', 'blocked', 'customData'];
  const u = { id: String(r[0]) };
  for (let i = 1; i < names.length; i++) {
    const v = r[i];
    if (v === '' || v === false || (i === 17 && Object.keys(v).length === 0)) continue;
    u[names[i]] = v;
  }
  return u;
}

function answer(res, status, body) {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

async function lookup(res, text, arg) {
  try {
    const { rows } = await pool.query({ text, values: [arg], rowMode: 'array' });
    if (rows.length === 0) return answer(res, 404, { error: 'user_not_found' });
    answer(res, 200, profile(rows[0]));
  } catch (err) {
    answer(res, 502, { error: err.message });
  }
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const m = /^\/users\/(\d+)$/.exec(u.pathname);
  if (req.method === 'GET' && m) return lookup(res, byID, m[1]);
  if (req.method === 'GET' && u.pathname === '/users') return lookup(res, byEmail, u.searchParams.get('email'));
  answer(res, 404, { error: 'no such route' });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const a = server.address();
  console.log(`listening on http://${a.address}:${a.port}`);
});
