import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepAliveClient } from './http.ts';
import { describeFetchError } from './retry.ts';

/** Answers /ok with 204 after reading the body, /bad with 400 and an InfluxDB error; /hang never answers. */
let server: Server;
let base: string;
const bodies: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      bodies.push(data);
      if (req.url === '/hang') return;
      if (req.url === '/bad') {
        res.writeHead(400, { 'x-influxdb-error': 'unable to parse' });
        res.end('{"error":"unable to parse"}');
        return;
      }
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

describe('keep-alive client', () => {
  it('posts bodies (string or Buffer) and returns status, text and headers', async () => {
    const client = keepAliveClient(2);
    const signal = new AbortController().signal;
    const ok = await client.post(`${base}/ok`, { 'content-type': 'text/plain' }, 'm v=1 1\nm v=2 2', signal, 5000);
    expect(ok.status).toBe(204);
    const bad = await client.post(`${base}/bad`, {}, Buffer.from('m v=é 3'), signal, 5000);
    expect([bad.status, bad.text, bad.header('X-InfluxDB-Error')]).toEqual([
      400,
      '{"error":"unable to parse"}',
      'unable to parse',
    ]);
    expect(bodies.slice(-2)).toEqual(['m v=1 1\nm v=2 2', 'm v=é 3']);
    client.close();
  });

  it('fails like fetch: TimeoutError on timeout, the socket error as cause when refused, abort on signal', async () => {
    const client = keepAliveClient(1);
    const never = new AbortController();
    const timedOut = await client.post(`${base}/hang`, {}, 'x', never.signal, 50).catch((e: unknown) => e);
    expect(describeFetchError(timedOut, 50)).toBe('timed out after 50 ms');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await client
      .post(`http://127.0.0.1:${port}/`, {}, 'x', never.signal, 5000)
      .catch((e: unknown) => e);
    expect(describeFetchError(refused, 5000)).toMatch(/^request failed \(ECONNREFUSED /);
    const stop = new AbortController();
    const pending = client.post(`${base}/hang`, {}, 'x', stop.signal, 5000).catch((e: unknown) => e);
    stop.abort();
    expect(((await pending) as Error).message).toBe('request aborted');
    client.close();
  });
});
