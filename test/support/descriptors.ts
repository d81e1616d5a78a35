/**
 * The process's open file descriptors, read from `/proc/self/fd` (Linux), to prove that a
 * store closed what it opened: files by path, TCP sockets by their remote address.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** True where `/proc/self/fd` lists the process's descriptors. */
export const canListDescriptors = existsSync('/proc/self/fd');

/** Descriptor number → what it is open on (`/path`, `socket:[inode]`, `anon_inode:[eventfd]`...). */
export type Descriptors = Map<string, string>;

/** The descriptors open now. */
export function openDescriptors(): Descriptors {
  const open: Descriptors = new Map();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      open.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Closed between the listing and the read (the listing's own descriptor among them).
    }
  }
  return open;
}

/**
 * The descriptors open now that were not open (on the same target) in `before`, each as
 * `fd -> target`, a TCP socket with its remote address (`socket:[inode] to 127.0.0.1:6379`).
 */
export function descriptorsOpenedSince(before: Descriptors): string[] {
  const remotes = tcpRemotes();
  const opened: string[] = [];
  for (const [fd, target] of openDescriptors()) {
    if (before.get(fd) === target) continue;
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const remote = inode === undefined ? undefined : remotes.get(inode);
    opened.push(`${fd} -> ${target}${remote === undefined ? '' : ` to ${remote}`}`);
  }
  return opened;
}

/** Socket inode → remote `address:port`, for the TCP sockets of the process's network namespace. */
function tcpRemotes(): Map<string, string> {
  const remotes = new Map<string, string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const [remote, inode] = [fields[2], fields[9]];
      if (remote === undefined || inode === undefined) continue;
      remotes.set(inode, remoteAddress(remote));
    }
  }
  return remotes;
}

/** `0100007F:18EB` → `127.0.0.1:6379` (IPv6 addresses are left in hex). */
function remoteAddress(hex: string): string {
  const [address = '', port = '0'] = hex.split(':');
  const portNumber = Number.parseInt(port, 16);
  if (address.length !== 8) return `[${address}]:${portNumber}`;
  // Little-endian on the machines the tests run on (x86, arm64).
  const bytes = address.match(/../g)?.map((byte) => Number.parseInt(byte, 16)) ?? [];
  return `${bytes.reverse().join('.')}:${portNumber}`;
}

/** How many of the process's TCP sockets are connected to `port` on the loopback address. */
export function socketsTo(port: number): number {
  const remote = `127.0.0.1:${port}`;
  return descriptorsOpenedSince(new Map()).filter((fd) => fd.endsWith(` to ${remote}`)).length;
}
