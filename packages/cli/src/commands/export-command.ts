import { writeFileSync } from 'node:fs';
import type { ExportJobView } from '@courier/protocol';
import type { CourierHttp } from '@courier/sdk';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { unsupportedText } from '../message-printer.ts';
import type { CommandContext } from '../context.ts';
import { Names } from '../names.ts';

interface ExportedMessage {
  seq: number;
  sentAt: string;
  from: string;
  fromAccountId: string;
  text?: string;
  event?: string;
  /** A message of a type this version cannot show: its type. */
  unsupported?: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `courier export [file]`: starts a data-export job on the server, shows its progress, downloads
 * the archive and adds the conversations this device holds (the server has none in readable form),
 * the way Telegram's desktop export does: `conversations.json` and a readable `conversations.html`.
 */
export async function exportData(ctx: CommandContext, file: string | undefined): Promise<void> {
  const session = ctx.profile.requireSession();
  const http = ctx.profile.http();
  let shown = -1;
  const serverZip = await http.exportData({
    onProgress: (job: ExportJobView) => {
      if (job.progress === shown) return;
      shown = job.progress;
      ctx.io.err(`Exporting your data from the server: ${job.progress}% (${job.state})`);
    },
  });
  const files = unzipSync(serverZip);

  const store = ctx.profile.deviceStore();
  const names = new Names(http);
  const titles = new Map((await http.groups()).map((g) => [g.groupId, g] as const));
  const conversations = [];
  try {
    for (const groupId of store.messageGroupIds()) {
      const chat = titles.get(groupId);
      const messages: ExportedMessage[] = [];
      for (const m of await store.messages(groupId)) {
        messages.push({
          seq: m.seq,
          sentAt: new Date(m.sentAtMs).toISOString(),
          from: m.outgoing ? 'me' : await names.of(m.senderAccountId),
          fromAccountId: m.senderAccountId,
          ...(m.roster
            ? { event: await names.rosterEvent(m.roster) }
            : m.unsupported
              ? { unsupported: m.unsupported.type, text: unsupportedText(m.unsupported) }
              : { text: m.text }),
        });
      }
      conversations.push({
        chatId: groupId,
        kind: chat?.kind ?? null,
        title: !chat
          ? '(a chat you left)'
          : chat.kind === 'direct'
            ? `Direct chat with ${await peerName(http, groupId, session.accountId, names)}`
            : chat.title,
        messages,
      });
    }
  } finally {
    store.close();
  }
  files['conversations.json'] = strToU8(
    JSON.stringify(
      {
        note: 'The conversations this device holds, decrypted on this device. The server never had them in readable form.',
        deviceId: session.deviceId,
        conversations,
      },
      null,
      2,
    ),
  );
  files['conversations.html'] = strToU8(conversationsPage(conversations));
  const archive = zipSync(files);
  const path = file ?? `courier-export-${new Date().toISOString().slice(0, 10)}.zip`;
  writeFileSync(path, archive, { mode: 0o600 });
  const count = conversations.reduce((n, c) => n + c.messages.length, 0);
  ctx.io.out(
    `Wrote ${path} (${archive.byteLength} bytes): what the server holds (account.json, index.html) and ` +
      `${conversations.length} conversations with ${count} messages from this device (conversations.json, conversations.html).`,
  );
}

async function peerName(http: CourierHttp, groupId: string, me: string, names: Names): Promise<string> {
  const peer = (await http.group(groupId)).members.find((m) => m.accountId !== me);
  return peer ? names.of(peer.accountId) : 'nobody';
}

function conversationsPage(
  conversations: {
    title: string;
    messages: { sentAt: string; from: string; text?: string; event?: string }[];
  }[],
): string {
  const sections = conversations
    .map(
      (c) =>
        `<h2>${escapeHtml(c.title)}</h2><ol>${c.messages
          .map(
            (m) =>
              `<li><time>${escapeHtml(m.sentAt)}</time> <b>${escapeHtml(m.from)}</b>: ${escapeHtml(m.text ?? `* ${m.event ?? ''}`)}</li>`,
          )
          .join('')}</ol>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your Courier conversations</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}li{margin:.2rem 0}time{color:#555}</style></head><body>
<h1>Your Courier conversations</h1><p>Decrypted on this device; the server never had them in readable form.</p>
${sections || '<p>None.</p>'}
</body></html>`;
}
