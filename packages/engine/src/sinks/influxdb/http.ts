/**
 * A small keep-alive HTTP POST for the InfluxDB sink, on node:http/https rather than fetch:
 * measured on this machine, fetch (undici) cost the sink about four times the client CPU per
 * request of a plain node:http request with the same body, and the sink's throughput is bound by
 * client CPU long before the server's. One agent per sink keeps `maxSockets` connections open,
 * one per request in flight. Failures look like fetch's (a `TimeoutError` for the timeout, an
 * error with the socket error as `cause` otherwise), so `describeFetchError` describes both.
 *
 * @example
 * const client = keepAliveClient(2);
 * const res = await client.post('http://127.0.0.1:8086/write?db=x', { 'content-type': 'text/plain' }, 'm v=1 1', signal, 10_000);
 * // res.status === 204
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostAnswer {
  status: number;
  text: string;
  header(name: string): string | undefined;
}

export interface KeepAliveClient {
  post(
    url: string,
    headers: Readonly<Record<string, string>>,
    body: string | Buffer,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<PostAnswer>;
  close(): void;
}

function timeoutError(ms: number): Error {
  const e = new Error(`request timed out after ${ms} ms`);
  e.name = 'TimeoutError';
  return e;
}

export function keepAliveClient(maxSockets: number): KeepAliveClient {
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets }),
    https: new HttpsAgent({ keepAlive: true, maxSockets }),
  };
  return {
    post(url, headers, body, signal, timeoutMs) {
      return new Promise<PostAnswer>((resolve, reject) => {
        if (signal.aborted) {
          reject(new Error('request aborted', { cause: signal.reason }));
          return;
        }
        const https = url.startsWith('https:');
        const req = (https ? httpsRequest : httpRequest)(url, {
          method: 'POST',
          agent: https ? agents.https : agents.http,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        });
        let settled = false;
        const finish = (err: Error | undefined, answer?: PostAnswer): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (err !== undefined) {
            req.destroy();
            reject(err);
          } else if (answer !== undefined) resolve(answer);
        };
        const onAbort = (): void => finish(new Error('request aborted', { cause: signal.reason }));
        const timer = setTimeout(() => finish(timeoutError(timeoutMs)), timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('error', (err) => finish(new Error('request failed', { cause: err })));
        req.on('response', (res: IncomingMessage) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('error', (err) => finish(new Error('response failed', { cause: err })));
          res.on('end', () =>
            finish(undefined, {
              status: res.statusCode ?? 0,
              text: Buffer.concat(parts).toString('utf8'),
              header: (name) => {
                const v = res.headers[name.toLowerCase()];
                return Array.isArray(v) ? v.join(', ') : v;
              },
            }),
          );
        });
        req.end(body);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
