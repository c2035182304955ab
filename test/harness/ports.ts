// Free TCP ports from the OS, for peers that must be told their port before they start
// (haproxy, nginx, sluice read it from a configuration file).
import * as net from 'node:net';

function listenOnce(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => resolve(srv));
  });
}

function portOf(srv: net.Server): number {
  return (srv.address() as net.AddressInfo).port;
}

function close(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/**
 * A TCP port the OS just reported free on `host` (default 127.0.0.1). It is released before
 * returning, so another process could take it first; the ephemeral range makes that rare.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = await listenOnce(host);
  const port = portOf(srv);
  await close(srv);
  return port;
}

/** `n` distinct free ports on `host`: all are held open together so that none repeats. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenOnce(host));
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** Resolves true when something accepts a TCP connection on host:port, false otherwise. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.removeAllListeners();
      s.on('error', () => {});
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
