// The seed product's PostgreSQL template (custom database connection,
// "PostgreSQL" in the script-template selector), all eight functions, as
// published: pg's Client per call, env.DB_CONNECTION_URI, bcrypt, results
// returned and errors thrown.

async function login(query, password, context) {
  // The first argument query contains following contents:
  // query.email
  // query.username
  // query.phone
  const { email, username, phone } = query;

  // if none of email, username and phone is set, throw an error
  if (!email && !username && !phone) {
    throw new Error('Need str to find user!');
  }

  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  // use postgres placeholders to prevent SQL injection
  const QUERY = 'SELECT * FROM users WHERE email = $1 OR username = $2 OR phone = $3';
  const res = await client.query(QUERY, [email, username, phone]);
  await client.end();

  // an empty result means the user does not exist
  if (res.rows.length === 0) {
    throw new Error('User not exists!');
  }
  const user = res.rows[0];

  // check the password with bcrypt
  const bcrypt = require('bcrypt');
  const isPasswordValid = await bcrypt.compare(password, user.password);
  if (!isPasswordValid) {
    throw new Error('Password is not valid!');
  }

  return {
    id: user.id,
    email: user.email,
    username: user.username,
    phone: user.phone,
    nickname: user.nickname,
    photo: user.photo,
    token: user.token,
  };
}

async function getUser(query, context) {
  // The first argument query contains following contents:
  // query.id
  // query.email
  // query.username
  // query.phone
  const { id, email, username, phone } = query;

  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  const QUERY = 'SELECT * FROM users WHERE id = $1 OR email = $2 OR username = $3 OR phone = $4';
  const res = await client.query(QUERY, [id ? parseInt(id, 10) : null, email, username, phone]);
  await client.end();

  if (res.rows.length === 0) {
    return null;
  }
  const user = res.rows[0];
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    phone: user.phone,
    nickname: user.nickname,
    photo: user.photo,
  };
}

async function searchUser(keyword, context) {
  // The first argument keyword is the search keyword.
  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  const QUERY = 'SELECT * FROM users WHERE email LIKE $1 OR username LIKE $1 OR phone LIKE $1 OR nickname LIKE $1 ORDER BY id';
  const res = await client.query(QUERY, [`%${keyword}%`]);
  await client.end();

  return {
    totalCount: res.rows.length,
    list: res.rows.map(user => ({
      id: user.id,
      email: user.email,
      username: user.username,
      phone: user.phone,
      nickname: user.nickname,
      photo: user.photo,
    })),
  };
}

async function createUser(userinfo, context) {
  // The first argument userinfo contains following properties:
  // email, username, phone, password (plain text), nickname, photo
  const { email, username, phone, password, nickname, photo } = userinfo;

  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  // check whether the user exists
  const exists = await client.query('SELECT id FROM users WHERE email = $1 OR username = $2 OR phone = $3', [email, username, phone]);
  if (exists.rows.length > 0) {
    await client.end();
    throw new Error('user allready exists');
  }

  const bcrypt = require('bcrypt');
  const hashedPassword = password ? await bcrypt.hash(password, 10) : null;
  const QUERY = 'INSERT INTO users (email, username, phone, password, nickname, photo) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *';
  const res = await client.query(QUERY, [email, username, phone, hashedPassword, nickname, photo]);
  await client.end();

  const user = res.rows[0];
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    phone: user.phone,
    nickname: user.nickname,
    photo: user.photo,
  };
}

async function updateUser(id, updates, context) {
  // The first argument id is the user's id; updates holds the fields to change.
  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  const columns = ['email', 'username', 'phone', 'nickname', 'photo'];
  const sets = [];
  const values = [];
  for (const key of columns) {
    if (updates[key] !== undefined) {
      values.push(updates[key]);
      sets.push(`${key} = $${values.length}`);
    }
  }
  if (updates.password) {
    const bcrypt = require('bcrypt');
    values.push(await bcrypt.hash(updates.password, 10));
    sets.push(`password = $${values.length}`);
  }
  if (sets.length === 0) {
    await client.end();
    return getUser({ id }, context);
  }
  values.push(parseInt(id, 10));
  const QUERY = `UPDATE users SET ${sets.join(', ')} WHERE id = $${values.length} RETURNING *`;
  const res = await client.query(QUERY, values);
  await client.end();

  if (res.rows.length === 0) {
    throw new Error('User not exists!');
  }
  const user = res.rows[0];
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    phone: user.phone,
    nickname: user.nickname,
    photo: user.photo,
  };
}

async function deleteUser(id, context) {
  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  const res = await client.query('DELETE FROM users WHERE id = $1', [parseInt(id, 10)]);
  await client.end();

  if (res.rowCount === 0) {
    throw new Error('User not exists!');
  }
  return true;
}

async function listUsers(page, limit, context) {
  // page is 1-based; limit is the page size.
  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  const count = await client.query('SELECT count(*) FROM users');
  const res = await client.query('SELECT * FROM users ORDER BY id LIMIT $1 OFFSET $2', [limit, (page - 1) * limit]);
  await client.end();

  return {
    totalCount: parseInt(count.rows[0].count, 10),
    list: res.rows.map(user => ({
      id: user.id,
      email: user.email,
      username: user.username,
      phone: user.phone,
      nickname: user.nickname,
      photo: user.photo,
    })),
  };
}

async function validatePassword(id, password, context) {
  const { Client } = require('pg');
  const client = new Client({
    connectionString: env.DB_CONNECTION_URI,
  });
  await client.connect();

  const res = await client.query('SELECT password FROM users WHERE id = $1', [parseInt(id, 10)]);
  await client.end();

  if (res.rows.length === 0) {
    throw new Error('User not exists!');
  }
  const bcrypt = require('bcrypt');
  return bcrypt.compare(password, res.rows[0].password);
}
