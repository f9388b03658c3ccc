// The /devices page's script (public/devices.html), served as /devices.js: the page's CSP
// allows scripts from this origin only, never inline ones.
import { ACTIVITY, SIGNED_OUT } from './devices-text.js';
import { api as graphql, ApiError, dataOf, subscribe as subscribeWith } from './devices-graphql.js';

const TOKEN_KEY = 'logout-all.token';
const $ = (selector) => document.querySelector(selector);
let token = localStorage.getItem(TOKEN_KEY);
let stream = null; // AbortController of the live subscription

const FIELDS = 'id deviceInfo ipAddress userAgent lastActivity current';

/** One GraphQL operation with this page's token. */
const api = (query, variables = {}) => graphql(token, query, variables);

function notice(text) {
  $('#notice').textContent = text ?? '';
  $('#notice').hidden = !text;
}

function live(on) {
  const badge = document.createElement('span');
  badge.className = 'live-badge';
  const dot = document.createElement('span');
  dot.className = 'live-dot';
  dot.setAttribute('aria-hidden', 'true');
  dot.textContent = '●';
  const label = document.createElement('span');
  label.className = 'live-label';
  label.textContent = on ? 'Live:' : 'Reconnecting…';
  badge.append(dot, ' ', label);
  $('#live').replaceChildren(badge, on ? ' changes made on other devices appear here at once.' : '');
  $('#live').dataset.live = String(on);
}

function showSignIn(message) {
  stream?.abort();
  stream = null;
  token = null;
  localStorage.removeItem(TOKEN_KEY);
  $('#account').hidden = true;
  $('#sign-in').hidden = false;
  $('#sign-in').elements.password.value = '';
  $('#sessions').replaceChildren();
  $('#activity').replaceChildren();
  hideAlert();
  delete $('#sign-in-alert').dataset.live;
  $('#change-password').hidden = true;
  $('#live').textContent = '';
  delete $('#live').dataset.live;
  notice(message);
}

async function refresh() {
  const asked = token;
  try {
    const { me, sessions, securityEvents } = await api(
      `query { me { email name } sessions { ${FIELDS} } securityEvents(first: 10) { events { id type at ipAddress deviceInfo sessionDeviceInfo current } } }`,
    );
    $('#who').textContent = `${me.name} (${me.email})`;
    // A row being renamed stays as it is: a refresh does not take the field from under the typing.
    const editing = document.querySelector('#sessions form.rename')?.closest('tr');
    $('#sessions').replaceChildren(...sessions.map((s) => (s.id === editing?.dataset.sessionId ? editing : sessionRow(s))));
    // The alerted sign-in ended meanwhile (expired, signed out while this page was away): nothing to report.
    const alerted = $('#sign-in-alert').dataset.sessionId;
    if (alerted && !sessions.some((s) => s.id === alerted)) hideAlert();
    $('#activity').replaceChildren(...securityEvents.events.map(activityItem));
  } catch (error) {
    // Signed out meanwhile (the revocation stream says why): nothing to add.
    if (token !== asked || !token) return;
    if (error.code === 'UNAUTHENTICATED') showSignIn(SIGNED_OUT.UNAUTHENTICATED);
    else notice(`Could not load your devices: ${error.message}`);
  }
}

function sessionRow(session) {
  const row = document.createElement('tr');
  row.dataset.sessionId = session.id;
  const device = document.createElement('td');
  const name = document.createElement('span');
  name.className = 'device-name';
  name.textContent = session.deviceInfo;
  device.append(name);
  device.title = session.userAgent;
  if (session.current) {
    const badge = document.createElement('span');
    badge.className = 'this-device';
    badge.textContent = 'this device';
    device.append(badge);
  }
  const address = document.createElement('td');
  address.textContent = session.ipAddress;
  const seen = document.createElement('td');
  seen.textContent = new Date(session.lastActivity).toLocaleString();
  const action = document.createElement('td');
  action.className = 'row-actions';
  const rename = document.createElement('button');
  rename.className = 'rename-device';
  rename.textContent = 'Rename';
  rename.addEventListener('click', () => renameInPlace(row, name));
  const button = document.createElement('button');
  button.className = 'sign-out-device';
  button.textContent = 'Sign out';
  button.addEventListener('click', () =>
    session.current
      ? signOutHere()
      : run(
          withPassword((currentPassword) =>
            api('mutation ($id: ID!, $currentPassword: String) { revokeSession(id: $id, currentPassword: $currentPassword) }', { id: session.id, currentPassword }),
          ),
        ),
  );
  action.append(rename, button);
  row.append(device, address, seen, action);
  return row;
}

/** The device's name becomes a field in its row; saving renames it here, and `sessionUpdated` on every other page. */
function renameInPlace(row, name) {
  if (row.querySelector('form.rename')) return;
  const form = document.createElement('form');
  form.className = 'rename';
  const input = document.createElement('input');
  input.name = 'deviceInfo';
  input.value = name.textContent;
  input.maxLength = 200;
  input.required = true;
  input.setAttribute('aria-label', 'Device name');
  const save = document.createElement('button');
  save.type = 'submit';
  save.className = 'primary';
  save.textContent = 'Save';
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.textContent = 'Cancel';
  form.append(input, save, cancel);
  const close = () => {
    form.replaceWith(name);
  };
  cancel.addEventListener('click', close);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { renameSession } = await api('mutation ($id: ID!, $name: String!) { renameSession(id: $id, deviceInfo: $name) { id deviceInfo } }', {
        id: row.dataset.sessionId,
        name: input.value,
      });
      name.textContent = renameSession.deviceInfo;
      close();
      notice(null);
    } catch (error) {
      if (error.code === 'UNAUTHENTICATED') showSignIn(SIGNED_OUT.UNAUTHENTICATED);
      else notice(error.message);
    }
  });
  name.replaceWith(form);
  input.focus();
  input.select();
}

/** A session renamed on any device: its row shows the new name. */
function renamed(sessionId, deviceInfo) {
  const name = document.querySelector(`tr[data-session-id="${CSS.escape(sessionId)}"] .device-name`);
  if (name) name.textContent = deviceInfo;
  if ($('#sign-in-alert').dataset.sessionId === sessionId) $('#sign-in-alert').dataset.deviceInfo = deviceInfo;
}

function hideAlert() {
  $('#sign-in-alert').hidden = true;
  delete $('#sign-in-alert').dataset.sessionId;
  delete $('#sign-in-alert').dataset.deviceInfo;
}

/** One line of the account's timeline (newest first): what, when, from where. */
function activityItem(event) {
  const item = document.createElement('li');
  item.dataset.type = event.type;
  const where = `${event.deviceInfo}, ${event.ipAddress}${event.current ? ', this device' : ''}`;
  // A revoked or reported device is named, beside the one that acted.
  const what = `${ACTIVITY[event.type] ?? event.type}${event.sessionDeviceInfo ? `: ${event.sessionDeviceInfo}` : ''}`;
  item.textContent = `${new Date(event.at).toLocaleString()}: ${what} (${where})`;
  return item;
}

/**
 * A sensitive action (FRESH_AGE on the server): sent as is, and once more with the
 * password if the server asks for a fresh sign-in (REAUTHENTICATION_REQUIRED).
 */
async function withPassword(send) {
  try {
    return await send(null);
  } catch (error) {
    if (error.code !== 'REAUTHENTICATION_REQUIRED') throw error;
    const password = window.prompt('For your security, enter your password to continue.');
    if (!password) throw new ApiError('Cancelled: nothing was signed out.', 'CANCELLED');
    return send(password);
  }
}

/** Runs a mutation; the subscription brings the result to this page (and every other). */
async function run(mutation) {
  try {
    await mutation;
    await refresh();
  } catch (error) {
    if (error.code === 'UNAUTHENTICATED') showSignIn(SIGNED_OUT.UNAUTHENTICATED);
    else notice(error.message);
  }
}

async function signOutHere() {
  try {
    await api('mutation { logout }');
  } finally {
    showSignIn(SIGNED_OUT.LOGOUT);
  }
}

/** sessionRevoked: the stream ends after this device's own revocation. */
async function follow() {
  const controller = new AbortController();
  stream = controller;
  void followSignIns(controller);
  void followRenames(controller);
  try {
    const query = 'subscription { sessionRevoked { sessionId reason current } }';
    // live(true) once answered: the server checked the token, from here on every revocation reaches us.
    await subscribe(query, controller, () => live(true), onMessage);
  } catch {
    if (controller.signal.aborted) return;
  }
  if (stream !== controller) return; // signed out meanwhile
  // Its sibling subscriptions (sign-ins, renames) end with it: a retry opens all three again, within STREAMS_PER_SESSION.
  controller.abort();
  live(false);
  // Ended without this device's revocation (a restart, a network cut): still signed in?
  try {
    await api('query { me { id } }');
    setTimeout(() => stream === controller && follow(), 2000);
  } catch (error) {
    if (error.code === 'UNAUTHENTICATED') showSignIn(SIGNED_OUT.UNAUTHENTICATED);
    else setTimeout(() => stream === controller && follow(), 2000);
  }
}

/**
 * sessionCreated: a live alert for each new sign-in on the account elsewhere.
 * It shares the revocation stream's controller, so it ends with it.
 */
async function followSignIns(controller) {
  const query = 'subscription { sessionCreated { id deviceInfo ipAddress createdAt } }';
  try {
    await subscribe(query, controller, () => ($('#sign-in-alert').dataset.live = 'true'), (block) => {
      const created = dataOf(block)?.data?.sessionCreated;
      if (!created || stream !== controller) return;
      // What "This wasn't me" acts on: that session, by its id.
      $('#sign-in-alert').dataset.sessionId = created.id;
      $('#sign-in-alert').dataset.deviceInfo = created.deviceInfo;
      $('#sign-in-alert-text').textContent =
        `New sign-in: ${created.deviceInfo} from ${created.ipAddress} at ${new Date(created.createdAt).toLocaleString()}.`;
      $('#sign-in-alert').hidden = false;
      void refresh();
    });
  } catch {
    // Aborted with the revocation stream, or cut: the revocation stream decides what happens next.
  }
}

/** sessionUpdated: a device renamed anywhere (this page included) is renamed in the list. */
async function followRenames(controller) {
  const query = 'subscription { sessionUpdated { id deviceInfo } }';
  try {
    await subscribe(query, controller, () => ($('#sessions').dataset.live = 'true'), (block) => {
      const updated = dataOf(block)?.data?.sessionUpdated;
      if (updated && stream === controller) renamed(updated.id, updated.deviceInfo);
    });
  } catch {
    // As followSignIns.
  }
}

/** A subscription with this page's token (see devices-graphql.js). */
const subscribe = (query, controller, onOpen, onBlock) => subscribeWith(token, query, controller, onOpen, onBlock);

function onMessage(block) {
  const payload = dataOf(block);
  if (!payload) return;
  const revoked = payload.data?.sessionRevoked;
  if (payload.errors?.length) {
    showSignIn(SIGNED_OUT[payload.errors[0].extensions?.code] ?? payload.errors[0].message);
  } else if (revoked?.current) {
    showSignIn(SIGNED_OUT[revoked.reason] ?? SIGNED_OUT.REVOKED);
  } else if (revoked) {
    document.querySelector(`tr[data-session-id="${CSS.escape(revoked.sessionId)}"]`)?.remove();
    // The new sign-in the alert is about has ended: nothing left to report.
    if ($('#sign-in-alert').dataset.sessionId === revoked.sessionId) hideAlert();
    void refresh();
  }
}

/** "This wasn't me": that session is signed out and recorded as reported, then the password is changed. */
async function notMe() {
  const id = $('#sign-in-alert').dataset.sessionId;
  if (!id) return;
  try {
    await withPassword((currentPassword) =>
      api('mutation ($id: ID!, $currentPassword: String) { reportSession(id: $id, currentPassword: $currentPassword) }', { id, currentPassword }),
    );
  } catch (error) {
    if (error.code === 'UNAUTHENTICATED') return showSignIn(SIGNED_OUT.UNAUTHENTICATED);
    // Already signed out (by its own sign-out, or another device): the password still wants changing.
    if (error.code !== 'NOT_FOUND') return notice(error.message);
  }
  hideAlert();
  document.querySelector(`tr[data-session-id="${CSS.escape(id)}"]`)?.remove();
  notice('That device was signed out. Change your password now: whoever signed in may know it.');
  showPasswordForm();
  void refresh();
}

function showPasswordForm() {
  const form = $('#change-password');
  form.hidden = false;
  $('#password-error').textContent = '';
  form.scrollIntoView({ block: 'start' });
  form.elements.currentPassword.focus();
}

function signedIn(newToken) {
  token = newToken;
  localStorage.setItem(TOKEN_KEY, token);
  $('#sign-in').hidden = true;
  $('#account').hidden = false;
  $('#form-error').textContent = '';
  notice(null);
  void refresh();
  void follow();
}

$('#sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const register = event.submitter?.value === 'register';
  const input = { email: form.get('email'), password: form.get('password') };
  if (form.get('deviceInfo')) input.deviceInfo = form.get('deviceInfo');
  if (register) input.name = form.get('name');
  const mutation = register
    ? 'mutation ($input: RegisterInput!) { result: register(input: $input) { token } }'
    : 'mutation ($input: LoginInput!) { result: login(input: $input) { token } }';
  try {
    token = null;
    const { result } = await api(mutation, { input });
    signedIn(result.token);
  } catch (error) {
    $('#form-error').textContent = error.message;
  }
});
$('#not-me').addEventListener('click', () => void notMe());
$('#change-password').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const { changePassword } = await api(
      'mutation ($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { revokedCount } }',
      { current: form.elements.currentPassword.value, next: form.elements.newPassword.value },
    );
    form.reset();
    form.hidden = true;
    notice(`Password changed: ${changePassword.revokedCount} other device(s) signed out.`);
    void refresh();
  } catch (error) {
    if (error.code === 'UNAUTHENTICATED') showSignIn(SIGNED_OUT.UNAUTHENTICATED);
    else $('#password-error').textContent = error.message;
  }
});
const LOGOUT_ALL = 'mutation ($exceptCurrent: Boolean, $currentPassword: String) { logoutAll(exceptCurrent: $exceptCurrent, currentPassword: $currentPassword) { revokedCount } }';
$('#sign-out-others').addEventListener('click', () =>
  run(withPassword((currentPassword) => api(LOGOUT_ALL, { exceptCurrent: true, currentPassword }))),
);
$('#sign-out-all').addEventListener('click', async () => {
  try {
    await withPassword((currentPassword) => api(LOGOUT_ALL, { exceptCurrent: false, currentPassword }));
    showSignIn('You signed out on every device.');
  } catch (error) {
    notice(error.message);
  }
});

// Look again whenever the page comes back into view (lastActivity moves without events).
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && token) void refresh();
});

if (token) signedIn(token);
else showSignIn(null);
