import { execFileSync } from 'node:child_process';

/**
 * A censored network made of Linux network namespaces (iproute2 + iptables, as root):
 *
 *   client (this process's namespace)  198.18.0.1 ──veth── 198.18.0.2  censor  198.18.1.1 ──veth── server
 *                                                                    (routes, iptables)      198.18.1.2 core
 *                                                                                            198.18.1.3.. relays
 *
 * Addresses come from 198.18.0.0/15 (reserved for network benchmarks). The client namespace gets one
 * route, to 198.18.1.0/24 through the censor; the censor and server namespaces have no way out, so no
 * traffic leaves them.
 */
export type Block = 'drop' | 'reset' | 'loss';

export interface CensoredNetwork {
  censorNs: string;
  serverNs: string;
  coreAddress: string;
  relayAddresses: string[];
  block(address: string, how: Block, lossProbability?: number): void;
  unblock(address: string): void;
  unblockAll(): void;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Whether namespaces can be made here (root, iproute2 and iptables present); the reason if not. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const tool of ['ip', 'iptables']) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      if (tool === 'iptables') {
        try {
          execFileSync('iptables', ['--version'], { stdio: 'ignore' });
          continue;
        } catch {}
      }
      return `${tool} is not installed`;
    }
  }
  const probe = `crp${process.pid % 100000}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
  } catch (error) {
    return `ip netns add failed: ${(error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error)}`;
  }
  return undefined;
}

export function createCensoredNetwork(relayCount: number): CensoredNetwork {
  const tag = (process.pid % 100000).toString(36);
  const censorNs = `cr-${tag}-censor`;
  const serverNs = `cr-${tag}-server`;
  const hostVeth = `crc${tag}`;
  const destroy = () => {
    for (const ns of [censorNs, serverNs])
      try {
        ip('netns', 'del', ns);
      } catch {}
    try {
      ip('link', 'del', hostVeth);
    } catch {}
  };
  destroy();
  try {
    ip('netns', 'add', censorNs);
    ip('netns', 'add', serverNs);
    const inNs = (ns: string, ...args: string[]) => ip('-n', ns, ...args);
    ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'cen0', 'netns', censorNs);
    ip('addr', 'add', '198.18.0.1/30', 'dev', hostVeth);
    ip('link', 'set', hostVeth, 'up');
    ip('route', 'add', '198.18.1.0/24', 'via', '198.18.0.2', 'dev', hostVeth);
    inNs(censorNs, 'link', 'add', 'cen1', 'type', 'veth', 'peer', 'name', 'srv0', 'netns', serverNs);
    inNs(censorNs, 'addr', 'add', '198.18.0.2/30', 'dev', 'cen0');
    inNs(censorNs, 'addr', 'add', '198.18.1.1/24', 'dev', 'cen1');
    for (const dev of ['lo', 'cen0', 'cen1']) inNs(censorNs, 'link', 'set', dev, 'up');
    execFileSync('ip', ['netns', 'exec', censorNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const coreAddress = '198.18.1.2';
    const relayAddresses = Array.from({ length: relayCount }, (_, i) => `198.18.1.${3 + i}`);
    for (const address of [coreAddress, ...relayAddresses])
      inNs(serverNs, 'addr', 'add', `${address}/24`, 'dev', 'srv0');
    for (const dev of ['lo', 'srv0']) inNs(serverNs, 'link', 'set', dev, 'up');
    inNs(serverNs, 'route', 'add', '198.18.0.0/30', 'via', '198.18.1.1');
  } catch (error) {
    destroy();
    throw error;
  }
  const iptables = (...args: string[]) =>
    execFileSync('ip', ['netns', 'exec', censorNs, 'iptables', '-w', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  const rules = new Map<string, string[][]>();
  const unblock = (address: string) => {
    for (const rule of rules.get(address) ?? []) iptables('-D', 'FORWARD', ...rule);
    rules.delete(address);
  };
  return {
    censorNs,
    serverNs,
    coreAddress: '198.18.1.2',
    relayAddresses: Array.from({ length: relayCount }, (_, i) => `198.18.1.${3 + i}`),
    block(address, how, lossProbability = 0.2) {
      unblock(address);
      const added: string[][] =
        how === 'drop'
          ? [
              ['-d', address, '-j', 'DROP'],
              ['-s', address, '-j', 'DROP'],
            ]
          : how === 'reset'
            ? [
                ['-p', 'tcp', '-d', address, '-j', 'REJECT', '--reject-with', 'tcp-reset'],
                ['-p', 'tcp', '-s', address, '-j', 'REJECT', '--reject-with', 'tcp-reset'],
              ]
            : [
                [
                  '-d',
                  address,
                  '-m',
                  'statistic',
                  '--mode',
                  'random',
                  '--probability',
                  String(lossProbability),
                  '-j',
                  'DROP',
                ],
                [
                  '-s',
                  address,
                  '-m',
                  'statistic',
                  '--mode',
                  'random',
                  '--probability',
                  String(lossProbability),
                  '-j',
                  'DROP',
                ],
              ];
      for (const rule of added) iptables('-I', 'FORWARD', ...rule);
      rules.set(address, added);
    },
    unblock,
    unblockAll() {
      for (const address of [...rules.keys()]) unblock(address);
    },
    destroy,
  };
}
