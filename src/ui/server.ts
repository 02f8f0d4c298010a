// The local web UI's server: 127.0.0.1 only, one page and a small JSON API. It
// reads only the files named on its command line (by index, never by a path
// from the page) and what the page uploads; it writes nothing.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { PRESETS } from '../config/index.ts';
import { WORKLOADS } from '../sim/workloads.ts';
import { pageHtml } from './page.ts';
import { simUiRun, traceUiRun, UI_OPS_MAX, type UiRun } from './runs.ts';

export interface UiServerOptions {
  /** 0 picks a free port. */
  port: number;
  files: string[];
}

export interface UiServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const UPLOAD_BYTES_MAX = 64 * 1024 * 1024;
const JSON_BYTES_MAX = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const page = pageHtml();
  const server = createServer((req, res) => {
    handle(req, res, opts, page).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 400;
      send(res, status, 'application/json', JSON.stringify({ error: (e as Error).message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: UiServerOptions, page: string): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  const route = `${req.method} ${url.pathname}`;
  if (route === 'GET /') return send(res, 200, 'text/html; charset=utf-8', page);
  if (route === 'GET /favicon.ico') return send(res, 204, 'image/x-icon', '');
  if (route === 'GET /api/meta') {
    return sendJson(res, {
      presets: Object.keys(PRESETS),
      workloads: Object.keys(WORKLOADS),
      files: opts.files.map((f) => basename(f)),
      opsMax: UI_OPS_MAX,
    });
  }
  if (route === 'POST /api/sim') return sendJson(res, { runs: simRuns(JSON.parse((await body(req, JSON_BYTES_MAX)).toString('utf8'))) });
  const file = /^GET \/api\/file\/(\d+)$/.exec(route);
  if (file) {
    const path = opts.files[Number(file[1])];
    if (path === undefined) throw new HttpError(404, `no file ${file[1]} on the command line`);
    return sendJson(res, { runs: [traceUiRun(basename(path), await readFile(path))] });
  }
  if (route === 'POST /api/upload') {
    const name = (url.searchParams.get('name') ?? 'upload').slice(0, 200);
    return sendJson(res, { runs: [traceUiRun(name, await body(req, UPLOAD_BYTES_MAX))] });
  }
  throw new HttpError(404, `no route ${route}`);
}

interface SimBody {
  workload?: unknown;
  configs?: unknown;
  cpus?: unknown;
  ops?: unknown;
  seed?: unknown;
  placement?: unknown;
}

function simRuns(b: SimBody): UiRun[] {
  const workload = String(b.workload ?? 'pthread-loop');
  const configs = Array.isArray(b.configs) ? b.configs.map(String).filter((c) => c !== '') : ['linux-6.18'];
  if (configs.length < 1 || configs.length > 2) throw new HttpError(400, 'one or two configs');
  for (const c of configs) if (!PRESETS[c]) throw new HttpError(400, `unknown config ${c}`);
  const int = (v: unknown, def: number, min: number, max: number, what: string): number => {
    const n = v === undefined || v === '' ? def : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, `${what}: expected ${min} to ${max}`);
    return n;
  };
  const cpus = int(b.cpus, 2, 1, 16, 'CPUs');
  const ops = int(b.ops, 200, 1, UI_OPS_MAX, 'ops');
  const seed = int(b.seed, 1, 0, 2 ** 32 - 1, 'seed');
  const placement = String(b.placement ?? 'default');
  return configs.map((config) => simUiRun({ workload, config, cpus, ops, seed, placement }));
}

function body(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        reject(new HttpError(413, `body over ${max} bytes`));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, v: unknown): void {
  send(res, 200, 'application/json', JSON.stringify(v));
}

function send(res: ServerResponse, status: number, type: string, text: string): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    // The page loads nothing from elsewhere.
    'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
  });
  res.end(text);
}
