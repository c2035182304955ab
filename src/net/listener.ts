// Listening sockets for `bind` lines. The owner gets every accepted socket; nothing is read
// from it here.

import * as net from 'node:net';
import type { BindConfig } from '../config/model.js';

export interface Listener {
  bind: BindConfig;
  server: net.Server;
  /** The port actually bound (differs from the configured one only for port 0). */
  port: number;
}

/** Opens a listening socket for `bind`; rejects with the system error if it cannot. */
export function listen(bind: BindConfig, onConnection: (s: net.Socket) => void, reusePort = true): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true, allowHalfOpen: true, pauseOnConnect: false }, onConnection);
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(
      {
        host: bind.addr.host,
        port: bind.addr.port,
        ipv6Only: bind.addr.family === 6 && bind.v6only,
        backlog: 1024,
        // As HAProxy (unless `noreuseport`): a new process can bind while the old one drains.
        reusePort,
      },
      () => {
        server.off('error', onError);
        // After start-up, a listener error (EMFILE on accept) must not crash the process.
        server.on('error', (err) => process.emitWarning(`listener ${bind.addr.host}:${bind.addr.port}: ${err.message}`));
        const addr = server.address() as net.AddressInfo;
        resolve({ bind, server, port: addr.port });
      },
    );
  });
}
