import {
  type AccountView,
  type AuthIntent,
  type BlockView,
  CourierError,
  type DeleteAccountReply,
  type DeviceView,
  type ErrorEnvelope,
  type ExportJobView,
  type FileReportBody,
  type FileReportReply,
  type GroupDetailView,
  type GroupView,
  isErrorCode,
  MEDIA_BLOB_PATH,
  type MediaGrantBody,
  type MediaGrantReply,
  type PrivacyPolicyView,
  type PrivacySettingsView,
  type RequestCodeReply,
  type RequestView,
  type UserView,
  type VerifyCodeReply,
} from '@courier/protocol';

/** The HTTP API as typed calls. Failures are thrown as CourierError with the server's code. */
export class CourierHttp {
  private token: string | undefined;
  /** The verification id of the last code requested for each number (as typed, and as normalised). */
  private readonly verifications = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    token?: string,
  ) {
    this.token = token;
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  /**
   * One call of the HTTP API (the typed methods below use it; the MLS client adds its own). A body is
   * sent as JSON, or as it is when it is bytes with their `contentType` (a sticker image).
   */
  async call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    let response: Response;
    const raw = body instanceof Uint8Array;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(body === undefined
            ? {}
            : { 'content-type': raw ? (contentType ?? 'application/octet-stream') : 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        ...(body === undefined
          ? {}
          : { body: raw ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new CourierError('SERVER_UNAVAILABLE', { message: `Cannot reach ${this.baseUrl}`, cause });
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch (cause) {
      throw new CourierError('SERVER_UNAVAILABLE', {
        message: `Unexpected reply (${response.status})`,
        cause,
      });
    }
    if (!response.ok) {
      const error = (parsed as Partial<ErrorEnvelope> | undefined)?.error;
      const code = isErrorCode(error?.code)
        ? error.code
        : response.status >= 500
          ? 'SERVER_UNAVAILABLE'
          : 'REQ_INVALID';
      throw new CourierError(code, {
        ...(error?.message ? { message: error.message } : {}),
        ...(error?.details ? { details: error.details } : {}),
      });
    }
    return parsed as T;
  }

  /**
   * Asks the server to text a code to the number. The reply does not say whether the number has an
   * account; `intent` is ignored by the server (kept for older callers).
   */
  async requestCode(phone: string, _intent?: AuthIntent): Promise<RequestCodeReply> {
    const reply = await this.call<RequestCodeReply>('POST', '/v1/auth/code', { phone });
    this.verifications.set(phone, reply.verificationId);
    this.verifications.set(reply.phone, reply.verificationId);
    return reply;
  }

  /**
   * Verifies a code: a number without an account gets one (`created`), one with an account signs a
   * new device in. The code is named by `verificationId`, by default the one of this client's last
   * request for the number. `acceptPolicyVersion` is required at sign-up, and at the first login
   * after the policy changed. `intent` is ignored (kept for older callers).
   */
  verifyCode(
    phone: string,
    code: string,
    _intent: AuthIntent | undefined,
    deviceName: string,
    acceptPolicyVersion?: string,
    verificationId: string | undefined = this.verifications.get(phone),
  ): Promise<VerifyCodeReply> {
    if (verificationId === undefined) {
      return Promise.reject(
        new CourierError('AUTH_CODE_EXPIRED', {
          message: `No code was requested for ${phone} by this client; request one first.`,
        }),
      );
    }
    return this.call('POST', '/v1/auth/verify', {
      phone,
      verificationId,
      code,
      deviceName,
      ...(acceptPolicyVersion === undefined ? {} : { acceptPolicyVersion }),
    });
  }

  privacyPolicy(): Promise<PrivacyPolicyView> {
    return this.call('GET', '/v1/privacy-policy');
  }

  acceptPolicy(version: string): Promise<void> {
    return this.call('POST', '/v1/me/privacy-policy/accept', { version });
  }

  privacySettings(): Promise<PrivacySettingsView> {
    return this.call('GET', '/v1/me/privacy');
  }

  updatePrivacySettings(change: Partial<PrivacySettingsView>): Promise<PrivacySettingsView> {
    return this.call('PUT', '/v1/me/privacy', change);
  }

  /** Starts an export of everything the server holds about this account (or gets the one under way). */
  startExport(): Promise<ExportJobView> {
    return this.call('POST', '/v1/me/exports');
  }

  exportJob(jobId: string): Promise<ExportJobView> {
    return this.call('GET', `/v1/me/exports/${encodeURIComponent(jobId)}`);
  }

  exportJobs(): Promise<ExportJobView[]> {
    return this.call('GET', '/v1/me/exports');
  }

  /** The finished archive of an export job (a zip: account.json and a readable index.html). */
  async downloadExport(jobId: string): Promise<Uint8Array> {
    const response = await fetch(
      new URL(`/v1/me/exports/${encodeURIComponent(jobId)}/archive`, this.baseUrl),
      { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} },
    ).catch((cause: unknown) => {
      throw new CourierError('SERVER_UNAVAILABLE', { message: `Cannot reach ${this.baseUrl}`, cause });
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => undefined)) as Partial<ErrorEnvelope> | undefined;
      throw new CourierError(isErrorCode(body?.error?.code) ? body.error.code : 'SERVER_UNAVAILABLE');
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * Runs an export to its end: starts the job, polls its progress (reported to `onProgress`) and
   * downloads the archive. A failed or expired job is thrown as its catalog error.
   */
  async exportData(
    options: { onProgress?: (job: ExportJobView) => void; pollMs?: number } = {},
  ): Promise<Uint8Array> {
    let job = await this.startExport();
    options.onProgress?.(job);
    while (job.state === 'queued' || job.state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
      job = await this.exportJob(job.jobId);
      options.onProgress?.(job);
    }
    if (job.state === 'failed') throw new CourierError('EXPORT_FAILED');
    if (job.state === 'expired') throw new CourierError('EXPORT_EXPIRED');
    return this.downloadExport(job.jobId);
  }

  deleteAccount(confirmPhone: string): Promise<DeleteAccountReply> {
    return this.call('DELETE', '/v1/me', { confirmPhone });
  }

  logout(): Promise<void> {
    return this.call('POST', '/v1/auth/logout');
  }

  me(): Promise<AccountView> {
    return this.call('GET', '/v1/me');
  }

  setUsername(username: string | null): Promise<AccountView> {
    return this.call('PUT', '/v1/me/username', { username });
  }

  setDisplayName(displayName: string): Promise<AccountView> {
    return this.call('PUT', '/v1/me/profile', { displayName });
  }

  lookup(query: { username: string } | { phone: string } | { accountId: string }): Promise<UserView> {
    return this.call('GET', `/v1/users/lookup?${new URLSearchParams(query)}`);
  }

  async devices(): Promise<DeviceView[]> {
    return (await this.call<{ devices: DeviceView[] }>('GET', '/v1/devices')).devices;
  }

  revokeDevice(deviceId: string): Promise<void> {
    return this.call('DELETE', `/v1/devices/${encodeURIComponent(deviceId)}`);
  }

  /** Sends a report (issue 12): exactly the body the person saw and agreed to. */
  fileReport(body: FileReportBody): Promise<FileReportReply> {
    return this.call('POST', '/v1/reports', body);
  }

  async groups(): Promise<GroupView[]> {
    return (await this.call<{ groups: GroupView[] }>('GET', '/v1/groups')).groups;
  }

  group(groupId: string): Promise<GroupDetailView> {
    return this.call('GET', `/v1/groups/${encodeURIComponent(groupId)}`);
  }

  createGroup(title: string, memberIds: string[]): Promise<GroupDetailView> {
    return this.call('POST', '/v1/groups', { title, memberIds });
  }

  openDirect(accountId: string): Promise<GroupDetailView> {
    return this.call('POST', '/v1/direct', { accountId });
  }

  addMembers(groupId: string, accountIds: string[]): Promise<GroupDetailView> {
    return this.call('POST', `/v1/groups/${encodeURIComponent(groupId)}/members`, { accountIds });
  }

  removeMember(groupId: string, accountId: string): Promise<void> {
    return this.call(
      'DELETE',
      `/v1/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(accountId)}`,
    );
  }

  leave(groupId: string): Promise<void> {
    return this.call('POST', `/v1/groups/${encodeURIComponent(groupId)}/leave`);
  }

  setRole(groupId: string, accountId: string, role: 'admin' | 'member'): Promise<GroupDetailView> {
    return this.call(
      'PUT',
      `/v1/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(accountId)}/role`,
      { role },
    );
  }

  /** Message requests (direct chats others opened) and group invitations waiting for me. */
  async requests(): Promise<RequestView[]> {
    return (await this.call<{ requests: RequestView[] }>('GET', '/v1/requests')).requests;
  }

  /** Accepts a message request or an invitation; answers the chat as I now see it. */
  acceptRequest(groupId: string): Promise<GroupDetailView> {
    return this.call('POST', `/v1/requests/${encodeURIComponent(groupId)}/accept`);
  }

  /** Declines (deletes) a message request or an invitation; the sender is not told. */
  declineRequest(groupId: string): Promise<void> {
    return this.call('POST', `/v1/requests/${encodeURIComponent(groupId)}/decline`);
  }

  /** The people I blocked. */
  async blocks(): Promise<BlockView[]> {
    return (await this.call<{ blocks: BlockView[] }>('GET', '/v1/blocks')).blocks;
  }

  /** Blocks a person (silent to them); blocking twice is the same as once. */
  block(accountId: string): Promise<void> {
    return this.call('PUT', `/v1/blocks/${encodeURIComponent(accountId)}`);
  }

  unblock(accountId: string): Promise<void> {
    return this.call('DELETE', `/v1/blocks/${encodeURIComponent(accountId)}`);
  }

  /**
   * Binds a file's blob to a further chat (a forward): this account must be a member of a chat the
   * blob is bound to (else MEDIA_NOT_FOUND) and of `chatId` (else GROUP_NOT_FOUND).
   */
  grantMedia(blobId: string, chatId: string): Promise<MediaGrantReply> {
    const body: MediaGrantBody = { chatId };
    return this.call('POST', `${MEDIA_BLOB_PATH}/${encodeURIComponent(blobId)}/chats`, body);
  }
}
