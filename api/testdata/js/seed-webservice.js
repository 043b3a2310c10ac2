// The seed product's custom web service template (login and getUser), as
// published: the service's base URL in env.DB_CONNECTION_URI, axios and
// fetch, the service's answers mapped to the seed's errors.

async function login(query, password, context) {
  const axios = require('axios');
  try {
    const res = await axios.post(`${env.DB_CONNECTION_URI}/login`, {
      email: query.email,
      username: query.username,
      phone: query.phone,
      password,
    }, { headers: { 'X-Api-Key': env.API_KEY } });
    return res.data;
  } catch (err) {
    if (err.response && err.response.status === 404) {
      throw new Error('User not exists!');
    }
    if (err.response && err.response.status === 401) {
      throw new Error('Password is not valid!');
    }
    throw err;
  }
}

async function getUser(query, context) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString();
  const res = await fetch(`${env.DB_CONNECTION_URI}/users?${params}`, { headers: { 'X-Api-Key': env.API_KEY } });
  if (res.status === 404) {
    return null;
  }
  if (!res.ok) {
    throw new Error(`the user service answered ${res.status}`);
  }
  return res.json();
}
