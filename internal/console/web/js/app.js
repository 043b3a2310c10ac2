// app.js: the console's entry point: sign in, then the operator or the
// tenant view.
import { get, session, setSession, clearSession } from './api.js';
import { showError, clearErrors, busy } from './ui.js';
import { showOperator } from './operator.js';
import { showTenant } from './tenant.js';

const $ = (s) => document.querySelector(s);

function signedIn(s) {
  $('#signin').hidden = true;
  $('#whoami').hidden = false;
  $('#whoami').textContent = s.role === 'operator' ? 'Signed in as the operator' : 'Signed in with a tenant API key';
  $('#signout').hidden = false;
  document.body.dataset.role = s.role;
  return s.role === 'operator' ? showOperator() : showTenant();
}

function showSignIn() {
  $('#signin').hidden = false;
  $('#signin-token').focus();
}

$('#signout').addEventListener('click', () => {
  clearSession();
  // A fresh page: nothing of the last session stays in memory.
  location.replace(location.pathname);
});

$('#signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  clearErrors(form);
  const role = form.elements.role.value;
  const token = form.elements.token.value.trim();
  if (!token) {
    showError(form, { code: 'invalid_input', message: 'token: is required', field: 'token' });
    return;
  }
  await busy(form.querySelector('button[type=submit]'), async () => {
    setSession(role, token);
    try {
      // Check the credential before showing the view.
      await get(role === 'operator' ? '/v1/admin/tenants' : '/v1/connections');
    } catch (err) {
      clearSession();
      showError(form, err, err.code === 'unauthorized' ? 'token' : '_form');
      return;
    }
    form.reset();
    await signedIn({ role, token });
  });
});

const s = session();
if (s) signedIn(s);
else showSignIn();
