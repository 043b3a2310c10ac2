// The seed product's MySQL template (login and getUser, the lazy
// migration's two), as published: mysql's connection per call with
// env.DB_HOST etc., ? placeholders, callbacks wrapped in promises, bcrypt.

async function login(query, password, context) {
  const { email, username, phone } = query;
  if (!email && !username && !phone) {
    throw new Error('Need str to find user!');
  }

  const mysql = require('mysql');
  const connection = mysql.createConnection({
    host: env.DB_HOST,
    port: env.DB_PORT,
    user: env.DB_USERNAME,
    password: env.DB_PASSWORD,
    database: env.DB_DATABASE,
  });
  connection.connect();

  const QUERY = 'SELECT * FROM users WHERE email = ? OR username = ? OR phone = ?';
  const results = await new Promise((resolve, reject) => {
    connection.query(QUERY, [email, username, phone], function (error, results, fields) {
      if (error) return reject(error);
      resolve(results);
    });
  });
  connection.end();

  if (results.length === 0) {
    throw new Error('User not exists!');
  }
  const user = results[0];

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
  };
}

async function getUser(query, context) {
  const { id, email, username, phone } = query;

  const mysql = require('mysql2/promise');
  const connection = await mysql.createConnection({
    host: env.DB_HOST,
    port: env.DB_PORT,
    user: env.DB_USERNAME,
    password: env.DB_PASSWORD,
    database: env.DB_DATABASE,
  });
  const [rows] = await connection.execute('SELECT * FROM users WHERE id = ? OR email = ? OR username = ? OR phone = ?', [id || null, email, username, phone]);
  await connection.end();

  if (rows.length === 0) {
    return null;
  }
  const user = rows[0];
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    phone: user.phone,
    nickname: user.nickname,
    photo: user.photo,
  };
}
