/**
 * Settings: profile, privacy settings, this account's devices, export of everything the server
 * holds (with progress), and account deletion.
 */
import type { AccountView, DeviceView, ExportJobView, PrivacySettingsView } from '@courier/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { ActionButton } from '../ui/action-button.tsx';
import { Alert, useAction } from '../ui/errors.tsx';
import type { BlockRow } from '../worker/types.ts';
import { ReadReceiptsSetting } from './read-receipts-setting.tsx';

const AUDIENCES = [
  ['everybody', 'Everybody'],
  ['contacts', 'My contacts'],
  ['nobody', 'Nobody'],
] as const;

export function ProfileForm(props: {
  me: AccountView;
  submitLabel: string;
  onSaved: (me: AccountView) => void;
}) {
  const [name, setName] = useState(props.me.displayName);
  const [username, setUsername] = useState(props.me.username ?? '');
  const [status, setStatus] = useState('');
  const { error, busy, run } = useAction();
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void run(async () => {
          const saved = await device.setProfile(name, username.replace(/^@/, ''));
          setStatus('Profile saved.');
          props.onSaved(saved);
        });
      }}
    >
      <label for="display-name">Your name</label>
      <input
        id="display-name"
        autocomplete="name"
        maxLength={64}
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <label for="username">Username (people can find you as @username)</label>
      <input
        id="username"
        autocomplete="username"
        maxLength={32}
        value={username}
        onInput={(e) => setUsername(e.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        {props.submitLabel}
      </button>
      <p role="status">{status}</p>
      <Alert text={error} />
    </form>
  );
}

function PrivacyForm() {
  const [settings, setSettings] = useState<PrivacySettingsView | undefined>();
  const [status, setStatus] = useState('');
  const { error, busy, run } = useAction();
  useEffect(() => void run(async () => setSettings(await device.privacySettings())), [run]);
  if (!settings) return <Alert text={error} />;
  const select = (
    name: 'phoneVisibility' | 'phoneDiscovery' | 'lastSeenVisibility' | 'groupAdd',
    label: string,
  ) => (
    <>
      <label for={name}>{label}</label>
      <select
        id={name}
        value={settings[name]}
        onChange={(e) => setSettings({ ...settings, [name]: e.currentTarget.value })}
      >
        {AUDIENCES.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </>
  );
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void run(async () => {
          const saved = await device.updatePrivacySettings(settings);
          setSettings(saved);
          setStatus(
            `Saved. Phone number visible to: ${saved.phoneVisibility}; findable by: ${saved.phoneDiscovery}; last seen visible to: ${saved.lastSeenVisibility}; may add you to groups: ${saved.groupAdd}.`,
          );
        });
      }}
    >
      {select('phoneVisibility', 'Who can see my phone number')}
      {select('phoneDiscovery', 'Who can find me by my phone number')}
      {select('lastSeenVisibility', 'Who can see when I was last seen')}
      {select('groupAdd', 'Who may add me to groups')}
      <p class="hint" id="group-add-hint">
        Anyone else who adds you to a group sends you an invitation instead, listed under Requests.
      </p>
      <label for="selfDestructMonths">Delete my account if I am away for</label>
      <select
        id="selfDestructMonths"
        value={String(settings.selfDestructMonths)}
        onChange={(e) =>
          setSettings({
            ...settings,
            selfDestructMonths: Number(e.currentTarget.value) as PrivacySettingsView['selfDestructMonths'],
          })
        }
      >
        {[1, 3, 6, 12].map((n) => (
          <option key={n} value={String(n)}>
            {n === 1 ? '1 month' : `${n} months`}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy}>
        Save settings
      </button>
      <p id="settings-status" role="status">
        {status}
      </p>
      <Alert text={error} />
    </form>
  );
}

function BlockedPeople() {
  const [blocked, setBlocked] = useState<BlockRow[] | undefined>();
  const [status, setStatus] = useState('');
  const { error, busy, run } = useAction();
  useEffect(() => void run(async () => setBlocked(await device.blocks())), [run]);
  return (
    <>
      {blocked === undefined ? null : blocked.length === 0 ? (
        <p id="blocked-empty">You have not blocked anyone.</p>
      ) : (
        <ul class="blocked" aria-label="Blocked people">
          {blocked.map((b) => (
            <li key={b.accountId}>
              <span>
                {b.name} · blocked {new Date(b.createdAtMs).toLocaleDateString()}
              </span>
              <ActionButton
                kind="secondary"
                busy={busy}
                run={run}
                action={async () => {
                  await device.unblock(b.accountId);
                  setBlocked(await device.blocks());
                  setStatus(
                    `${b.name} is unblocked. Your old chat stays deleted; either of you can start a new one.`,
                  );
                }}
              >
                Unblock {b.name}
              </ActionButton>
            </li>
          ))}
        </ul>
      )}
      <p role="status">{status}</p>
      <Alert text={error} />
    </>
  );
}

function Devices() {
  const [devices, setDevices] = useState<DeviceView[]>([]);
  const { error, run } = useAction();
  const load = () => run(async () => setDevices(await device.devices()));
  useEffect(() => void load(), []);
  return (
    <>
      <ul class="devices" aria-label="Your devices">
        {devices.map((d) => (
          <li key={d.deviceId}>
            <span>
              {d.name}
              {d.current ? ' (this browser)' : ''} · added {new Date(d.createdAtMs).toLocaleDateString()}
              {d.lastSeenAtMs ? ` · last seen ${new Date(d.lastSeenAtMs).toLocaleDateString()}` : ''}
            </span>
            {!d.current && (
              <button
                type="button"
                class="secondary"
                onClick={() =>
                  void run(async () => {
                    if (!window.confirm(`Sign out “${d.name}” and revoke its keys?`)) return;
                    await device.revokeDevice(d.deviceId);
                    setDevices(await device.devices());
                  })
                }
              >
                Revoke {d.name}
              </button>
            )}
          </li>
        ))}
      </ul>
      <Alert text={error} />
    </>
  );
}

const EXPORT_TEXTS: Record<string, (job: ExportJobView) => string> = {
  queued: () => 'Your export is waiting to start.',
  running: (job) => `Preparing your export: ${job.progress}%.`,
  done: (job) =>
    `Your export is ready (${Math.ceil((job.bytes ?? 0) / 1024)} KB). It is deleted on ${new Date(job.expiresAtMs ?? 0).toLocaleString()}.`,
  failed: () => 'Your export failed. Please start a new one.',
  expired: () => 'Your last export was deleted after its retention window. Start a new one to get your data.',
};

function Export() {
  const [job, setJob] = useState<ExportJobView | undefined>();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const { error, run } = useAction();
  const follow = (current: ExportJobView) => {
    setJob(current);
    clearTimeout(timer.current);
    if (current.state === 'queued' || current.state === 'running')
      timer.current = setTimeout(
        () => void run(async () => follow(await device.exportJob(current.jobId))),
        400,
      );
  };
  useEffect(() => {
    void run(async () => {
      const latest = (await device.exportJobs())[0];
      if (latest) follow(latest);
    });
    return () => clearTimeout(timer.current);
  }, []);
  const working = job?.state === 'queued' || job?.state === 'running';
  return (
    <>
      <button
        type="button"
        disabled={working}
        onClick={() => void run(async () => follow(await device.startExport()))}
      >
        Export my data
      </button>
      {job && (
        <div>
          <label for="export-progress">Export progress</label>
          <progress id="export-progress" max={100} value={job.progress} />
          <p id="export-text" role="status" aria-live="polite">
            {(EXPORT_TEXTS[job.state] ?? (() => job.state))(job)}
          </p>
          {job.state === 'done' && (
            <button
              type="button"
              onClick={() =>
                void run(async () => {
                  const bytes = await device.downloadExport(job.jobId);
                  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/zip' }));
                  const link = document.createElement('a');
                  link.href = url;
                  link.download = `courier-export-${new Date().toISOString().slice(0, 10)}.zip`;
                  document.body.append(link);
                  link.click();
                  link.remove();
                  setTimeout(() => URL.revokeObjectURL(url), 60_000);
                })
              }
            >
              Download archive
            </button>
          )}
        </div>
      )}
      <Alert text={error} />
    </>
  );
}

function DeleteAccount(props: { onDeleted: (legalHold: boolean) => void }) {
  const [phone, setPhone] = useState('');
  const { error, busy, run } = useAction();
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void run(async () => {
          if (
            !window.confirm(
              'Delete your Courier account and everything personal the server holds? This cannot be undone.',
            )
          )
            return;
          props.onDeleted((await device.deleteAccount(phone)).legalHold);
        });
      }}
    >
      <label for="confirm-phone">Type your phone number to confirm</label>
      <input
        id="confirm-phone"
        type="tel"
        autocomplete="off"
        required
        value={phone}
        onInput={(e) => setPhone(e.currentTarget.value)}
      />
      <button type="submit" class="danger" disabled={busy}>
        Delete my account
      </button>
      <Alert text={error} />
    </form>
  );
}

export function Settings(props: {
  me: AccountView;
  onProfile: (me: AccountView) => void;
  onDeleted: (legalHold: boolean) => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="pane-body settings" aria-labelledby="settings-title">
      <h2 id="settings-title" tabIndex={-1} ref={heading}>
        Settings
      </h2>
      <p>
        Everything Courier's server holds about you is listed in its{' '}
        <a href="/privacy" target="_blank" rel="noopener">
          privacy policy
        </a>
        . Your messages are end-to-end encrypted: the server never has them in a form it can read.
      </p>
      <section aria-labelledby="profile-title">
        <h3 id="profile-title">Profile</h3>
        <p>Signed in as {props.me.phone}.</p>
        <ProfileForm me={props.me} submitLabel="Save profile" onSaved={props.onProfile} />
      </section>
      <section aria-labelledby="privacy-title">
        <h3 id="privacy-title">Privacy settings</h3>
        <p>
          "Contacts" are the people you have a direct chat with that you both accepted, and whom neither of
          you blocked.
        </p>
        <PrivacyForm />
        <ReadReceiptsSetting />
      </section>
      <section aria-labelledby="blocked-title">
        <h3 id="blocked-title">Blocked people</h3>
        <p>Blocked people are not told. Nothing they send, and none of their invitations, reach you.</p>
        <BlockedPeople />
      </section>
      <section aria-labelledby="devices-title">
        <h3 id="devices-title">Your devices</h3>
        <Devices />
      </section>
      <section aria-labelledby="export-title">
        <h3 id="export-title">Export your data</h3>
        <p>
          Get a copy of everything the server holds about you: a zip with the data as JSON and a readable
          page. The archive is kept for a few days, then deleted.
        </p>
        <Export />
      </section>
      <section aria-labelledby="delete-title" class="danger-zone">
        <h3 id="delete-title">Delete my account</h3>
        <p>
          This deletes your account and everything personal the server holds about you, at once and for good:
          your phone number, username, profile, devices, sessions and connection records. You leave every
          chat.
        </p>
        <DeleteAccount onDeleted={props.onDeleted} />
      </section>
    </section>
  );
}
