import fs from 'node:fs';
import net from 'node:net';

// A port is chosen here and bound later, often by a child process that takes a second or two to start.
// The kernel's ephemeral range (outgoing connections, listen(0)) is no place for it: any connection of
// any process may take the port in between. So ports come from below that range, and each Jest worker
// has a slice of its own, so parallel test files never pick the same one.
const LOWEST = 10_000;
const SLICE = 1_000;

function ephemeralRangeStart(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low >= LOWEST + SLICE) return low;
  } catch {
    // not Linux: the range IANA reserves for dynamic ports starts at 49152
  }
  return 49_152;
}

const slices = Math.floor((ephemeralRangeStart() - LOWEST) / SLICE);
const sliceStart = LOWEST + (Number(process.env.JEST_WORKER_ID ?? 0) % slices) * SLICE;
// each test file loads this module afresh: a random start keeps it off the ports of the file before
let cursor = Math.floor(Math.random() * SLICE);

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A loopback port nothing listens on, for the caller to bind next. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < SLICE; tries++) {
    const port = sliceStart + (cursor++ % SLICE);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${sliceStart}–${sliceStart + SLICE - 1}`);
}
