// examples.js: a valid input per connector function (docs/contract.md
// "Connector functions"), and the check the Debug panel runs before
// sending. The server adds "context" to an input that has none.

export const FUNCTIONS = ['login', 'getUser', 'searchUser', 'createUser', 'updateUser', 'deleteUser', 'listUsers', 'validatePassword'];

export const EXAMPLES = {
  login: { query: { email: 'user0@legacy.example.com' }, password: 'correct horse' },
  getUser: { query: { email: 'user0@legacy.example.com' } },
  searchUser: { keyword: 'user', page: 1, limit: 10 },
  createUser: { user: { email: 'new.user@example.com', username: 'newuser', nickname: 'New User', password: 'a new password' } },
  updateUser: { id: '1', updates: { nickname: 'Renamed' } },
  deleteUser: { id: '1' },
  listUsers: { page: 1, limit: 10 },
  validatePassword: { id: '1', password: 'correct horse' },
};

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStr = (v) => typeof v === 'string' && v !== '';
const isPos = (v) => Number.isInteger(v) && v >= 1;
const QUERY_KEYS = ['id', 'email', 'username', 'phone'];

// What each function's input needs; a failed check is a sentence.
const CHECKS = {
  login: (v) => (!isObj(v.query) ? 'needs "query": {"email"|"username"|"phone": ...}'
    : !['email', 'username', 'phone'].some((k) => isStr(v.query[k])) ? '"query" needs an email, username or phone'
      : typeof v.password !== 'string' ? 'needs "password" (a string)' : ''),
  getUser: (v) => (!isObj(v.query) ? 'needs "query": {"id"|"email"|"username"|"phone": ...}'
    : !QUERY_KEYS.some((k) => isStr(v.query[k])) ? '"query" needs an id, email, username or phone' : ''),
  searchUser: (v) => (typeof v.keyword !== 'string' ? 'needs "keyword" (a string)'
    : !isPos(v.page) || !isPos(v.limit) ? 'needs "page" and "limit" (whole numbers from 1)' : ''),
  createUser: (v) => (!isObj(v.user) ? 'needs "user": {...the profile}' : ''),
  updateUser: (v) => (!isStr(v.id) ? 'needs "id" (a string)' : !isObj(v.updates) ? 'needs "updates": {...}' : ''),
  deleteUser: (v) => (!isStr(v.id) ? 'needs "id" (a string)' : ''),
  listUsers: (v) => (!isPos(v.page) || !isPos(v.limit) ? 'needs "page" and "limit" (whole numbers from 1)' : ''),
  validatePassword: (v) => (!isStr(v.id) ? 'needs "id" (a string)' : typeof v.password !== 'string' ? 'needs "password" (a string)' : ''),
};

// checkInput parses text as fn's input: {value} or {error}.
export function checkInput(fn, text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { error: 'not valid JSON: ' + err.message };
  }
  if (!isObj(v)) return { error: 'must be a JSON object' };
  const why = CHECKS[fn] ? CHECKS[fn](v) : '';
  return why ? { error: `${fn} ${why}` } : { value: v };
}
