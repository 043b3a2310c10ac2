// The seed product's MongoDB template (login and getUser), as published:
// MongoClient per call on env.DB_CONNECTION_URI, bcrypt.

async function login(query, password, context) {
  const { email, username, phone } = query;
  if (!email && !username && !phone) {
    throw new Error('Need str to find user!');
  }

  const { MongoClient } = require('mongodb');
  const client = new MongoClient(env.DB_CONNECTION_URI, { useNewUrlParser: true, useUnifiedTopology: true });
  await client.connect();
  const users = client.db().collection('users');

  const user = await users.findOne({ $or: [{ email }, { username }, { phone }].filter(c => Object.values(c)[0]) });
  await client.close();

  if (!user) {
    throw new Error('User not exists!');
  }

  const bcrypt = require('bcryptjs');
  const isPasswordValid = await bcrypt.compare(password, user.password);
  if (!isPasswordValid) {
    throw new Error('Password is not valid!');
  }

  return {
    id: user._id.toString(),
    email: user.email,
    username: user.username,
    phone: user.phone,
    nickname: user.nickname,
    photo: user.photo,
  };
}

async function getUser(query, context) {
  const { MongoClient, ObjectId } = require('mongodb');
  const client = new MongoClient(env.DB_CONNECTION_URI);
  await client.connect();
  const users = client.db().collection('users');

  const or = [];
  if (query.id && ObjectId.isValid(query.id)) or.push({ _id: new ObjectId(query.id) });
  if (query.email) or.push({ email: query.email });
  if (query.username) or.push({ username: query.username });
  if (query.phone) or.push({ phone: query.phone });
  const user = or.length ? await users.findOne({ $or: or }) : null;
  await client.close();

  if (!user) {
    return null;
  }
  return {
    id: user._id.toString(),
    email: user.email,
    username: user.username,
    phone: user.phone,
    nickname: user.nickname,
  };
}
