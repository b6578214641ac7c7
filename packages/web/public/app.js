// The Courier web app: sign-in by phone number and SMS code, the privacy policy, and "Your data"
// (privacy settings, export, account deletion). It talks to the same /v1 HTTP API as every client.
const $ = (selector) => document.querySelector(selector);
const STORAGE_KEY = 'courier-session';
let session = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
/** The sign-in under way: phone, verification id and code, kept until the policy is accepted. */
let pending = null;
let exportTimer = null;

class ApiError extends Error {
  constructor(code, message, details) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(session ? { authorization: `Bearer ${session.token}` } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status === 204) return undefined;
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError('SERVER_UNAVAILABLE', `Unexpected reply (${response.status}).`);
  }
  if (!response.ok) {
    const error = data?.error ?? { code: `HTTP_${response.status}`, message: response.statusText };
    if (session && ['AUTH_INVALID_TOKEN', 'AUTH_SESSION_REVOKED'].includes(error.code)) signOutLocally();
    throw new ApiError(error.code, error.message, error.details);
  }
  return data;
}

const showError = (error) => {
  $('#error').textContent = error
    ? error instanceof ApiError
      ? error.message
      : String(error.message ?? error)
    : '';
};

/** Runs a form or button action, showing a failure in the alert region instead of losing it. */
const guarded = (action) => async (event) => {
  event?.preventDefault();
  showError(null);
  try {
    await action(event);
  } catch (error) {
    showError(error);
  }
};

function showView(id) {
  for (const view of ['#sign-in-view', '#policy-view', '#data-view', '#deleted-view'])
    $(view).hidden = view !== id;
  $('#sign-out').hidden = !session;
  $('#who').textContent = session ? session.phone : '';
  const heading = $(id).querySelector('h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

function saveSession(value) {
  session = value;
  if (value) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(STORAGE_KEY);
}

function signOutLocally() {
  saveSession(null);
  clearTimeout(exportTimer);
  showSignIn();
}

function showSignIn() {
  pending = null;
  $('#phone-form').hidden = false;
  $('#code-form').hidden = true;
  $('#phone-form').reset();
  $('#code-form').reset();
  showView('#sign-in-view');
}

// Sign-in: one code request for every number. The reply does not say whether the number has an
// account (nobody may learn that from the number alone); verifying the code creates it if needed.
$('#phone-form').addEventListener(
  'submit',
  guarded(async () => {
    const phone = $('#phone').value.trim();
    const sent = await api('POST', '/v1/auth/code', { phone });
    pending = { phone: sent.phone, verificationId: sent.verificationId };
    $('#code-sent').textContent = `We sent a code to ${sent.phone}.`;
    $('#phone-form').hidden = true;
    $('#code-form').hidden = false;
    $('#code').focus();
  }),
);

$('#change-number').addEventListener('click', () => showSignIn());

async function verify(acceptPolicyVersion) {
  const reply = await api('POST', '/v1/auth/verify', {
    phone: pending.phone,
    verificationId: pending.verificationId,
    code: pending.code,
    deviceName: 'Web browser',
    ...(acceptPolicyVersion ? { acceptPolicyVersion } : {}),
  });
  saveSession({ token: reply.token, accountId: reply.accountId, phone: pending.phone });
  pending = null;
  await showData();
}

$('#code-form').addEventListener(
  'submit',
  guarded(async () => {
    pending.code = $('#code').value.trim();
    try {
      await verify();
    } catch (error) {
      if (error.code !== 'PRIVACY_POLICY_NOT_ACCEPTED') throw error;
      // Only someone holding the right code hears whether the number is new.
      await showPolicy(error.details?.newAccount ? 'new' : 'changed');
    }
  }),
);

async function showPolicy(reason) {
  const policy = await api('GET', '/v1/privacy-policy');
  $('#policy-intro').textContent =
    reason === 'new'
      ? 'Before we create your account, please read and accept our privacy policy.'
      : 'Our privacy policy has changed since you last accepted it. Please read and accept the new version to continue.';
  $('#policy-text').textContent = policy.markdown;
  $('#policy-version').textContent = `${policy.version}`;
  $('#policy-form').dataset.version = policy.version;
  $('#policy-form').reset();
  showView('#policy-view');
}

$('#policy-form').addEventListener(
  'submit',
  guarded(async () => {
    const version = $('#policy-form').dataset.version;
    if (pending) await verify(version);
    else {
      await api('POST', '/v1/me/privacy-policy/accept', { version });
      await showData();
    }
  }),
);

async function showData() {
  const me = await api('GET', '/v1/me');
  if (!me.policy.accepted) return showPolicy('changed');
  session = { ...session, phone: me.phone };
  const settings = await api('GET', '/v1/me/privacy');
  for (const [name, value] of Object.entries(settings)) {
    const field = $(`#settings-form [name=${name}]`);
    if (field) field.value = String(value);
  }
  $('#settings-status').textContent = '';
  $('#delete-form').reset();
  showView('#data-view');
  const latest = (await api('GET', '/v1/me/exports'))[0];
  if (latest) showExport(latest);
}

$('#settings-form').addEventListener(
  'submit',
  guarded(async () => {
    const form = new FormData($('#settings-form'));
    const saved = await api('PUT', '/v1/me/privacy', {
      phoneVisibility: form.get('phoneVisibility'),
      phoneDiscovery: form.get('phoneDiscovery'),
      lastSeenVisibility: form.get('lastSeenVisibility'),
      selfDestructMonths: Number(form.get('selfDestructMonths')),
    });
    $('#settings-status').textContent =
      `Saved. Phone number visible to: ${saved.phoneVisibility}; findable by: ${saved.phoneDiscovery}; last seen visible to: ${saved.lastSeenVisibility}.`;
  }),
);

// Export: start a job, poll its progress, download when done.
function showExport(job) {
  clearTimeout(exportTimer);
  $('#export-status').hidden = false;
  $('#export-progress').value = job.progress;
  $('#export-download').hidden = job.state !== 'done';
  $('#export-download').dataset.job = job.jobId;
  const texts = {
    queued: 'Your export is waiting to start.',
    running: `Preparing your export: ${job.progress}%.`,
    done: `Your export is ready (${Math.ceil((job.bytes ?? 0) / 1024)} KB). It is deleted on ${new Date(job.expiresAtMs).toLocaleString()}.`,
    failed: 'Your export failed. Please start a new one.',
    expired: 'Your last export was deleted after its retention window. Start a new one to get your data.',
  };
  $('#export-text').textContent = texts[job.state] ?? job.state;
  $('#export-start').disabled = job.state === 'queued' || job.state === 'running';
  if (job.state === 'queued' || job.state === 'running') {
    exportTimer = setTimeout(
      guarded(async () => showExport(await api('GET', `/v1/me/exports/${encodeURIComponent(job.jobId)}`))),
      400,
    );
  }
}

$('#export-start').addEventListener(
  'click',
  guarded(async () => showExport(await api('POST', '/v1/me/exports'))),
);

$('#export-download').addEventListener(
  'click',
  guarded(async () => {
    const jobId = $('#export-download').dataset.job;
    const response = await fetch(`/v1/me/exports/${encodeURIComponent(jobId)}/archive`, {
      headers: { authorization: `Bearer ${session.token}` },
    });
    if (!response.ok) {
      const error = (await response.json().catch(() => null))?.error;
      throw new ApiError(error?.code ?? `HTTP_${response.status}`, error?.message ?? response.statusText);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `courier-export-${new Date().toISOString().slice(0, 10)}.zip`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }),
);

$('#delete-form').addEventListener(
  'submit',
  guarded(async () => {
    const confirmPhone = $('#confirm-phone').value;
    if (
      !window.confirm(
        'Delete your Courier account and everything personal the server holds? This cannot be undone.',
      )
    )
      return;
    const reply = await api('DELETE', '/v1/me', { confirmPhone });
    saveSession(null);
    clearTimeout(exportTimer);
    $('#deleted-text').textContent = reply.legalHold
      ? 'Everything personal is deleted. A legal obligation requires us to keep your phone number and some connection records until it ends; then they are deleted too.'
      : 'Everything personal the server held about you is deleted.';
    showView('#deleted-view');
  }),
);

$('#deleted-done').addEventListener('click', () => showSignIn());

$('#sign-out').addEventListener(
  'click',
  guarded(async () => {
    try {
      await api('POST', '/v1/auth/logout');
    } finally {
      signOutLocally();
    }
  }),
);

if (session) guarded(showData)();
else showSignIn();
