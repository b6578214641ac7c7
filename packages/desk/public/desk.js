// The legal desk in the browser: talks only to /desk/v1 with a desk session (password + TOTP).
const $ = (selector) => document.querySelector(selector);
let session = JSON.parse(sessionStorage.getItem('desk-session') ?? 'null');

const TEMPLATE = {
  authority: { name: '', kind: 'court', country: '' },
  instrument: {
    type: 'court_order',
    issuingCourt: '',
    reference: '',
    issueDate: new Date().toISOString().slice(0, 10),
  },
  offence: { category: 'terrorism', confirmsSuspect: true },
  targets: [{ phone: '' }],
  timeRange: { from: '', to: '' },
  requestedCategories: ['phone_number', 'ip_addresses'],
  nonDisclosure: null,
};

async function api(method, path, body) {
  const response = await fetch(`/desk/v1${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(session ? { authorization: `Desk ${session.token}` } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = data?.error ?? { code: 'HTTP_' + response.status, message: response.statusText };
    if (error.code === 'DESK_SESSION_INVALID') forget();
    const issues = error.details?.issues ? ` (${error.details.issues.join('; ')})` : '';
    throw new Error(`${error.code}: ${error.message}${issues}`);
  }
  return data;
}

const show = (message) => {
  $('#error').textContent = message ?? '';
};

/** Forgets the session here (the server no longer knows it, or has just ended it). */
function forget() {
  session = null;
  sessionStorage.removeItem('desk-session');
  render();
}

/** Ends the session on the server, then here: a copied token opens nothing afterwards. */
async function logout() {
  try {
    if (session) await api('POST', '/logout');
  } catch (e) {
    show(e.message);
  }
  forget();
}

/** A target's finding as staff see it: who was named, and whether an account was found. */
const finding = (t) =>
  `${Object.values(t.target)[0]}: ${t.status === 'found' ? `found (${t.accountId})` : t.status}`;

async function refresh() {
  const { requests } = await api('GET', '/requests');
  const staff = session.kind === 'staff';
  // An authority sees its cases' status only; staff see the decision and, once the rules passed, the findings.
  const columns = staff
    ? ['case', 'received', 'status', 'outcome', 'reasons', 'may disclose', 'findings', 'declined because']
    : ['case', 'received', 'status'];
  const head = document.createElement('tr');
  for (const name of [...columns, '']) {
    const th = document.createElement('th');
    th.textContent = name;
    head.append(th);
  }
  $('#cases thead').replaceChildren(head);
  const rows = requests.map((c) => {
    const tr = document.createElement('tr');
    tr.dataset.case = c.caseId;
    const cells = [c.caseId, new Date(c.receivedAt).toISOString().slice(0, 16).replace('T', ' '), c.status];
    if (staff)
      cells.push(
        c.outcome,
        c.reasons.join(', '),
        c.disclosable.join(', '),
        (c.targets ?? []).map(finding).join('; '),
        c.declineReason ?? '',
      );
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const actions = document.createElement('td');
    const button = (label, run, after = refresh) => {
      const b = document.createElement('button');
      b.textContent = label;
      b.addEventListener('click', () =>
        run()
          .then(after)
          .catch((e) => show(e.message)),
      );
      actions.append(b);
    };
    if (staff && c.status === 'awaiting_approval' && session.roles.includes('approver'))
      button('Approve', () => api('POST', `/requests/${c.caseId}/approve`));
    if (
      staff &&
      ['awaiting_approval', 'approved'].includes(c.status) &&
      session.roles.some((r) => r !== 'auditor')
    ) {
      button('Decline', () =>
        api('POST', `/requests/${c.caseId}/decline`, { reason: prompt('Why?') || 'declined' }),
      );
    }
    if (staff && c.status === 'approved' && session.roles.includes('approver'))
      button('Produce', () => api('POST', `/requests/${c.caseId}/produce`));
    if (
      c.status === 'produced' &&
      (!staff || session.roles.some((r) => r === 'approver' || r === 'auditor'))
    ) {
      button(
        'Download package',
        async () => {
          const pkg = await api('GET', `/requests/${c.caseId}/package`);
          const link = document.createElement('a');
          link.href = URL.createObjectURL(
            new Blob([JSON.stringify(pkg, null, 2)], { type: 'application/json' }),
          );
          link.download = `${c.caseId}.json`;
          link.textContent = `${c.caseId}.json`;
          actions.append(link);
          link.click();
        },
        () => {},
      );
    }
    tr.append(actions);
    return tr;
  });
  $('#cases tbody').replaceChildren(...rows);
}

const when = (ms) =>
  ms === null || ms === undefined ? '' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** A table row of text cells (textContent only: report text is other people's words) and an actions cell. */
function row(cells) {
  const tr = document.createElement('tr');
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text ?? '';
    tr.append(td);
  }
  const actions = document.createElement('td');
  tr.append(actions);
  const button = (label, run) => {
    const b = document.createElement('button');
    b.textContent = label;
    b.addEventListener('click', () =>
      run()
        .then(() => show(''))
        .then(refreshModeration)
        .catch((e) => show(e.message)),
    );
    actions.append(b);
  };
  return { tr, button };
}

/** Shows one report: exactly the messages its reporter forwarded. */
async function readReport(reportId) {
  const report = await api('GET', `/moderation/reports/${encodeURIComponent(reportId)}`);
  $('#report-id').textContent = report.reportId;
  $('#report-reason').textContent = report.reason;
  $('#report-comment').textContent = report.comment ?? '(none)';
  $('#report-messages').replaceChildren(
    ...report.messages.map((m) => {
      const li = document.createElement('li');
      li.textContent = `[${when(m.sentAtMs)}] ${m.senderAccountId}: ${m.text}`;
      return li;
    }),
  );
  $('#report-detail').hidden = false;
}

/** The moderation queue and the suspensions, for staff with the moderator role. */
async function refreshModeration() {
  const state = $('#report-filter').value;
  const { reports } = await api('GET', `/moderation/reports${state ? `?state=${state}` : ''}`);
  $('#reports tbody').replaceChildren(
    ...reports.map((r) => {
      const { tr, button } = row([
        r.reportId,
        when(r.receivedAt),
        r.reason,
        r.reportedAccountId ?? '(none)',
        String(r.messageCount),
        r.state,
        r.suspension,
      ]);
      tr.dataset.report = r.reportId;
      button('Read', () => readReport(r.reportId));
      if (r.state === 'open')
        button('Mark handled', () => api('POST', `/moderation/reports/${r.reportId}/handled`));
      if (r.reportedAccountId && r.suspension === 'active')
        button('Propose suspension', () =>
          api('POST', `/moderation/suspensions/${r.reportedAccountId}/propose`, { reportId: r.reportId }),
        );
      return tr;
    }),
  );
  const { suspensions } = await api('GET', '/moderation/suspensions');
  $('#suspensions tbody').replaceChildren(
    ...suspensions.map((s) => {
      const { tr, button } = row([
        s.accountId,
        s.state,
        s.proposedBy ?? '',
        when(s.suspendedAt ?? s.proposedAt),
        s.reportId ?? '',
      ]);
      tr.dataset.account = s.accountId;
      const path = `/moderation/suspensions/${s.accountId}`;
      if (s.state === 'proposed' || s.state === 'lift_proposed') {
        button(s.state === 'proposed' ? 'Approve suspension' : 'Approve lifting', () =>
          api('POST', `${path}/approve`),
        );
        button('Withdraw proposal', () => api('POST', `${path}/withdraw`));
      }
      if (s.state === 'suspended') button('Propose lifting', () => api('POST', `${path}/propose-lift`));
      return tr;
    }),
  );
}

function render() {
  $('#login-view').hidden = Boolean(session);
  $('#desk-view').hidden = !session;
  $('#logout').hidden = !session;
  $('#who').textContent = session
    ? `${session.username} (${session.kind === 'staff' ? session.roles.join(', ') : 'authority'})`
    : '';
  $('#submit-section').hidden = !session || (session.kind === 'staff' && !session.roles.includes('intake'));
  const moderator = Boolean(session && session.kind === 'staff' && session.roles.includes('moderator'));
  // A moderator who holds no legal-desk role sees the moderation queue only.
  const legal = Boolean(
    session && (session.kind !== 'staff' || session.roles.some((r) => r !== 'moderator')),
  );
  $('#legal-section').hidden = !legal;
  $('#moderation-section').hidden = !moderator;
  $('#report-detail').hidden = true;
  if (session && legal) refresh().catch((e) => show(e.message));
  if (moderator) refreshModeration().catch((e) => show(e.message));
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const reply = await api('POST', '/login', {
      username: form.get('username'),
      password: form.get('password'),
      code: form.get('code'),
    });
    session = { ...reply, username: form.get('username') };
    sessionStorage.setItem('desk-session', JSON.stringify(session));
    show('');
    event.target.reset();
    render();
  } catch (e) {
    show(e.message);
  }
});

$('#submit-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const request = JSON.parse(form.get('request'));
    const bytes = new Uint8Array(await form.get('document').arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    const { caseId, status } = await api('POST', '/requests', { request, documentBase64: btoa(binary) });
    $('#decision').textContent = `Case ${caseId}: ${status}`;
    show('');
    await refresh();
  } catch (e) {
    show(e instanceof SyntaxError ? `The request is not valid JSON: ${e.message}` : e.message);
  }
});

$('#logout').addEventListener('click', () => logout());
$('#report-filter').addEventListener('change', () => refreshModeration().catch((e) => show(e.message)));
$('#submit-form [name=request]').value = JSON.stringify(TEMPLATE, null, 2);
render();
