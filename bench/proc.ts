/**
 * Processes seen through Linux's /proc, for benchmarks that say where the
 * machine's time went: CPU time used so far, which process listens on a
 * port, and the PostgreSQL backends serving another process's connections
 * (a FerretDB over PostgreSQL). A benchmark reads them before and after what
 * it measures and subtracts.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** ms per clock tick (USER_HZ = 100). */
const TICK_MS = 10;

/**
 * CPU time (utime + stime, all threads, ms) used so far by a process, or by
 * the whole machine (all cores, busy time only); null once the process is gone.
 */
export function cpuMs(pid: number | 'machine'): number | null {
  try {
    if (pid === 'machine') {
      const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      return (fields.reduce((a, b) => a + b, 0) - fields[3]! - (fields[4] ?? 0)) * TICK_MS;
    }
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/** A TCP socket of /proc/net/tcp{,6}. */
interface TcpSocket {
  localPort: number;
  remotePort: number;
  /** 0A: listening, 01: established. */
  state: string;
  inode: string;
}

function tcpSockets(): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const port = (address: string): number => parseInt(address.split(':')[1]!, 16);
      sockets.push({ localPort: port(fields[1]!), remotePort: port(fields[2]!), state: fields[3]!, inode: fields[9]! });
    }
  }
  return sockets;
}

const pids = (): number[] => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);

/** The socket inodes a process holds open (empty when its fds cannot be read). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The process listening on a local TCP port, or null (not on this machine, or not visible to this user). */
export function listenerPid(port: number): number | null {
  const listening = new Set(tcpSockets().filter((s) => s.state === '0A' && s.localPort === port).map((s) => s.inode));
  if (listening.size === 0) return null;
  for (const pid of pids()) {
    for (const inode of socketInodes(pid)) if (listening.has(inode)) return pid;
  }
  return null;
}

/** A process's name (its executable's, as `ps` shows it), or null once it is gone. */
export function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** A process's command line, NULs as spaces ('' once it is gone). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/**
 * The PostgreSQL backends serving `client`'s connections: PostgreSQL names
 * each backend after its client's address (`postgres: user db 127.0.0.1(PORT) idle`),
 * so the backends are those whose PORT is the local port of one of `client`'s
 * established connections (other than those to `client`'s own `listenPort`).
 */
export function postgresBackends(client: number, listenPort: number): number[] {
  const mine = socketInodes(client);
  const ports = new Set(
    tcpSockets()
      .filter((s) => s.state === '01' && mine.has(s.inode) && s.localPort !== listenPort)
      .map((s) => s.localPort),
  );
  if (ports.size === 0) return [];
  return pids().filter((pid) => {
    const match = /^postgres: .*\((\d+)\)/.exec(commandLine(pid));
    return match !== null && ports.has(Number(match[1]));
  });
}

/** The soft limit on open files of this process (inherited by the processes it starts), from /proc/self/limits. */
export function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  return soft === 'unlimited' ? Infinity : Number(soft ?? 1024);
}
