// nginx as a real origin server for interop tests and benchmarks. It runs in the foreground in a
// private prefix under os.tmpdir(), as one single process (`master_process off`) so that the pid
// we track is the only process serving, killing it leaves no orphan worker, and its CPU time is
// all in one /proc entry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireBinary } from './bins.js';
import { freePort } from './ports.js';
import { makeTempDir, startProcess, type ExitInfo, type ProcHandle } from './proc.js';

export interface NginxOptions {
  /** Port to listen on; a free one when absent. */
  port?: number;
  /** Address to listen on, default 127.0.0.1. */
  host?: string;
  /** The fixed body served at "/" and "/hello" (default "hello\n"); must not contain '$'. */
  body?: string;
  /** A folder served for every other path; without it every path answers the fixed body. */
  root?: string;
  /** Extra directives inside the server block (more `location`s, headers, ...). */
  config?: string;
  /** Extra directives inside the http block. */
  httpConfig?: string;
  /** Listen for cleartext HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1. */
  http2?: boolean;
  /** Pin to these CPUs with taskset, e.g. "1". */
  cpus?: string;
  startTimeoutMs?: number;
}

export interface NginxHandle {
  port: number;
  host: string;
  /** The private prefix holding nginx.conf, the pid file and temp folders. */
  prefix: string;
  pid: number;
  proc: ProcHandle;
  /** "http://host:port". */
  url: string;
  /** Captured stderr/stdout (error_log goes to stderr). */
  output(): string;
  /** SIGTERM (fast shutdown), SIGKILL after a bound; removes the prefix. */
  stop(): Promise<ExitInfo>;
}

function quote(s: string): string {
  if (s.includes('$')) throw new Error("nginx body must not contain '$' (nginx has no escape for it)");
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The nginx.conf text startNginx writes, exposed for tests that want to tweak it. */
export function nginxConfig(o: NginxOptions & { port: number; prefix: string }): string {
  const body = quote(o.body ?? 'hello\n');
  const host = o.host ?? '127.0.0.1';
  const listen = host.includes(':') ? `[${host}]:${o.port}` : `${host}:${o.port}`;
  const tmp = path.join(o.prefix, 'tmp');
  const rest = o.root ? `root ${o.root};` : `return 200 ${body};`;
  return `master_process off;
worker_processes 1;
pid ${path.join(o.prefix, 'nginx.pid')};
error_log stderr warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    default_type text/plain;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path ${tmp}/body;
    proxy_temp_path ${tmp}/proxy;
    fastcgi_temp_path ${tmp}/fastcgi;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
${o.httpConfig ?? ''}
    server {
        listen ${listen}${o.http2 ? ' http2' : ''};
        location = / {
            return 200 ${body};
        }
        location = /hello {
            return 200 ${body};
        }
        location / {
            ${rest}
        }
${o.config ?? ''}
    }
}
`;
}

/** Starts nginx in the foreground and resolves once its port accepts connections. */
export async function startNginx(o: NginxOptions = {}): Promise<NginxHandle> {
  const bin = requireBinary('nginx');
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? (await freePort(host));
  const prefix = makeTempDir('sluice-nginx-');
  fs.mkdirSync(path.join(prefix, 'tmp'));
  fs.mkdirSync(path.join(prefix, 'logs'));
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig({ ...o, port, prefix }));
  // -e stderr: nginx opens its default error log before reading the config; keep it off /var/log.
  const proc = await startProcess('nginx', [bin, '-p', `${prefix}/`, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'], {
    dir: prefix,
    waitPorts: [port],
    waitHost: host,
    cpus: o.cpus,
    startTimeoutMs: o.startTimeoutMs,
  });
  return {
    port,
    host,
    prefix,
    pid: proc.pid,
    proc,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    output: () => proc.output(),
    stop: async () => {
      const info = await proc.stop();
      fs.rmSync(prefix, { recursive: true, force: true });
      return info;
    },
  };
}
