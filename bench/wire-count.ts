/**
 * The MongoDB commands a server issues, counted from outside it: a TCP proxy
 * between the server instances and the real MONGODB_URI that reads the wire
 * protocol as it passes, in a process of its own (so that its CPU time is its
 * own line, and its work does not delay the benchmark's clients).
 *
 * Each message starts with a 16-byte header (length, requestID, responseTo,
 * opCode). A command is an OP_MSG (2013) whose section of kind 0 is the
 * command document: its first key is the command's name, and for the CRUD
 * commands that key's value is the collection's name, so `find sessions` and
 * `find revocations` are counted apart. The drivers' handshake may come as a
 * legacy OP_QUERY (2004), counted as `OP_QUERY <first key>`. Only the first
 * few hundred bytes of each message are read; the rest streams through. A
 * reply's `responseTo` names its request: the time from a request to its
 * reply (on the proxy's clock) is added to the command's line, so the figures
 * say which commands the database spends its time on, as its clients wait.
 *
 *   const counter = await startWireCounter('mongodb://127.0.0.1:27018/db');
 *   // the instances use counter.uri as MONGODB_URI
 *   await counter.reset(); ...; const counts = await counter.read();
 *
 * It needs no change to the server: only the address the instances connect to.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** One command's count and the sum of its round trips (ms). */
export interface CommandTally {
  count: number;
  ms: number;
}
export type CommandCounts = Record<string, CommandTally>;

export interface WireCounter {
  /** MONGODB_URI for the instances: the proxy, same database and options. */
  uri: string;
  pid: number;
  /** Forget what was counted so far. */
  reset(): Promise<void>;
  read(): Promise<CommandCounts>;
  stop(): void;
}

const OP_QUERY = 2004;
const OP_MSG = 2013;
/** OP_MSG flag: no reply follows. */
const MORE_TO_COME = 2;
/** Enough of a request to read its command's name and collection. */
const REQUEST_HEAD = 512;
const HEADER = 16;

type ToChild = 'reset' | 'read';
type FromChild = { port: number } | { counts: CommandCounts } | 'reset';

/** Starts the proxy in a child process, in front of `upstream` (a mongodb:// URI of one host). */
export async function startWireCounter(upstream: string): Promise<WireCounter> {
  const url = new URL(upstream);
  const child = fork(fileURLToPath(import.meta.url), ['--proxy', url.hostname, url.port || '27017'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      const exited = (): void => reject(new Error('the wire counter exited'));
      child.once('exit', exited);
      child.once('message', (message: FromChild) => {
        child.off('exit', exited);
        resolve(message);
      });
    });
  const ask = async (question: ToChild): Promise<FromChild> => {
    const answer = next();
    child.send(question);
    return answer;
  };
  const first = await next();
  if (typeof first !== 'object' || !('port' in first)) throw new Error('the wire counter did not start');
  url.host = `127.0.0.1:${first.port}`;
  return {
    uri: url.toString(),
    pid: child.pid!,
    async reset() {
      await ask('reset');
    },
    async read() {
      const answer = await ask('read');
      if (typeof answer !== 'object' || !('counts' in answer)) throw new Error('the wire counter answered nonsense');
      return answer.counts;
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Cuts one direction of a connection into messages: calls `onMessage` with
 * each message's first `want` bytes (fewer if the message is shorter) and its
 * whole length, skipping the rest without copying it.
 */
function messageHeads(want: number, onMessage: (head: Buffer, length: number) => void): (chunk: Buffer) => void {
  const head = Buffer.alloc(want);
  let have = 0;
  let length = -1;
  let skip = 0;
  let broken = false;
  return (chunk) => {
    let at = 0;
    while (at < chunk.length && !broken) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
        continue;
      }
      const target = length === -1 ? 4 : Math.min(length, want);
      const n = Math.min(target - have, chunk.length - at);
      chunk.copy(head, have, at, at + n);
      have += n;
      at += n;
      if (length === -1 && have === 4) {
        length = head.readInt32LE(0);
        // Not the wire protocol (or out of step with it): stop reading, keep forwarding.
        if (length < HEADER) broken = true;
        continue;
      }
      if (length !== -1 && have === Math.min(length, want)) {
        onMessage(head.subarray(0, have), length);
        skip = length - have;
        have = 0;
        length = -1;
      }
    }
  };
}

/** A NUL-terminated name at `at`, as far as `head` holds it, and where it ends. */
function cstring(head: Buffer, at: number): { text: string; end: number } {
  const nul = head.indexOf(0, at);
  const end = nul === -1 ? head.length : nul;
  return { text: head.toString('utf8', at, end), end: end + 1 };
}

/** A BSON document's first key at `at`, and its value when that is a string (a collection's name). */
function firstKey(head: Buffer, at: number): string {
  if (head.length < at + 6) return '?';
  const type = head[at + 4];
  const key = cstring(head, at + 5);
  if (type === 0x02 && head.length >= key.end + 4) {
    const size = head.readInt32LE(key.end);
    const value = head.toString('utf8', key.end + 4, Math.min(head.length, key.end + 4 + Math.max(0, size - 1)));
    return `${key.text} ${value}`;
  }
  return key.text;
}

/** A request's label: command name (and collection), and whether a reply follows. */
function describe(head: Buffer): { label: string; replied: boolean } {
  const opCode = head.readInt32LE(12);
  if (opCode === OP_MSG && head.length > HEADER + 5) {
    const flags = head.readUInt32LE(HEADER);
    const replied = (flags & MORE_TO_COME) === 0;
    // The drivers put the command document (kind 0) first, before any document sequence.
    if (head[HEADER + 4] !== 0) return { label: '(document sequence first)', replied };
    return { label: firstKey(head, HEADER + 5), replied };
  }
  if (opCode === OP_QUERY && head.length > HEADER + 4) {
    const collection = cstring(head, HEADER + 4);
    return { label: `OP_QUERY ${firstKey(head, collection.end + 8)}`, replied: true };
  }
  return { label: `opCode ${opCode}`, replied: true };
}

/** The proxy itself (in the child process). */
function proxy(host: string, port: number): void {
  let counts = new Map<string, CommandTally>();
  const server = createServer((client: Socket) => {
    const upstream = connect({ host, port });
    // requestID → what it asked and when.
    const waiting = new Map<number, { tally: CommandTally; at: number }>();
    client.pipe(upstream);
    upstream.pipe(client);
    client.on(
      'data',
      messageHeads(REQUEST_HEAD, (head) => {
        const { label, replied } = describe(head);
        let tally = counts.get(label);
        if (!tally) counts.set(label, (tally = { count: 0, ms: 0 }));
        tally.count += 1;
        if (replied) waiting.set(head.readInt32LE(4), { tally, at: performance.now() });
      }),
    );
    upstream.on(
      'data',
      messageHeads(HEADER, (head) => {
        const request = waiting.get(head.readInt32LE(8));
        if (!request) return;
        waiting.delete(head.readInt32LE(8));
        request.tally.ms += performance.now() - request.at;
      }),
    );
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ port: typeof address === 'object' && address ? address.port : 0 } satisfies FromChild);
  });
  process.on('message', (message: ToChild) => {
    if (message === 'reset') {
      // A command in flight across the reset is counted in the old map, not the new one.
      counts = new Map();
      process.send?.('reset' satisfies FromChild);
    } else if (message === 'read') {
      const out: CommandCounts = {};
      for (const [label, tally] of counts) out[label] = { count: tally.count, ms: Number(tally.ms.toFixed(1)) };
      process.send?.({ counts: out } satisfies FromChild);
    }
  });
  // The benchmark is gone: so is the proxy.
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === '--proxy') proxy(process.argv[3]!, Number(process.argv[4]));
