/**
 * Bounded, SSRF-safe HTTP(S) download.
 *
 * Bounds: total time (all hops together), body size (Content-Length checked up front, bytes
 * counted while streaming), number of redirects (followed by hand, each hop re-checked).
 *
 * Address guard: unless `allowPrivateAddresses` is set, only globally routable unicast addresses
 * may be contacted. The check runs on the address the socket actually connects to: host names
 * are resolved by our own `lookup` hook handed to the request, so a name that resolves (or is
 * re-bound) to 127.0.0.1 is refused before any connection is opened. Literal IP hosts never
 * reach `lookup`, so they are checked before the request is made.
 */
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { VisageError } from '../errors.js';

export interface DownloadOptions {
  /** Total time allowed for the whole download, redirects included, in milliseconds. */
  timeoutMs?: number;
  /** Largest accepted response body, in bytes. */
  maxBytes?: number;
  /** How many redirects to follow before giving up. */
  maxRedirects?: number;
  /** Permit loopback, private, link-local and other non-public addresses (e.g. for tests). */
  allowPrivateAddresses?: boolean;
}

export const DEFAULT_DOWNLOAD_OPTIONS: Readonly<Required<DownloadOptions>> = Object.freeze({
  timeoutMs: 10_000,
  maxBytes: 20 * 1024 * 1024,
  maxRedirects: 5,
  allowPrivateAddresses: false,
});

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * True when `address` (IPv4 or IPv6 literal) is a globally routable unicast address.
 * Everything else is refused: loopback, private, link-local, multicast, unspecified, broadcast,
 * CGNAT, IPv6 ULA, reserved/documentation ranges, NAT64/6to4/Teredo (which can embed an internal
 * IPv4 address), and IPv4-mapped IPv6 forms of all of these (`ipaddr.process` unwraps them).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

function blockedAddressError(host: string, address: string): VisageError {
  return new VisageError('BLOCKED_ADDRESS', `Refusing to connect to ${host}: it resolves to a non-public address (${address})`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves the name itself and refuses the connection when any
 * resolved address is non-public. Node calls it with `all: true` (happy eyeballs) or without,
 * so both callback shapes are served.
 */
function guardedLookup(hostname: string, options: { family?: number | string; all?: boolean }, callback: LookupCallback): void {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
  const lookupOptions: LookupAllOptions = { all: true, family };
  dnsLookup(hostname, lookupOptions, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((entry) => !isPublicAddress(entry.address));
    if (blocked) return callback(blockedAddressError(hostname, blocked.address) as NodeJS.ErrnoException, []);
    const first = addresses[0];
    if (options.all) return callback(null, addresses);
    if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

function parseDownloadUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (err) {
    throw new VisageError('DOWNLOAD_FAILED', `Not a valid URL: ${String(input).slice(0, 200)}`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VisageError('DOWNLOAD_FAILED', `Unsupported protocol ${url.protocol} (only http: and https:)`);
  }
  return url;
}

/** URL.hostname keeps IPv6 literals in brackets; strip them to get the bare address. */
function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

interface Hop {
  request: http.ClientRequest;
  response: http.IncomingMessage;
}

function requestHop(url: URL, allowPrivateAddresses: boolean, signal: AbortSignal): Promise<Hop> {
  const host = bareHostname(url);
  if (!allowPrivateAddresses && isIP(host) !== 0 && !isPublicAddress(host)) {
    throw blockedAddressError(host, host);
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: 'GET',
      headers: { 'user-agent': 'visage', accept: 'image/*' },
      // No connection pooling: a pooled socket opened by a caller that allowed private
      // addresses must never be reused by one that does not, and nothing may linger.
      agent: false,
      lookup: allowPrivateAddresses ? undefined : guardedLookup,
      signal,
    });
    request.once('response', (response) => resolve({ request, response }));
    request.once('error', reject);
    request.end();
  });
}

async function readBody(response: http.IncomingMessage, maxBytes: number, url: URL): Promise<Buffer> {
  const tooLarge = () => new VisageError('DOWNLOAD_FAILED', `Response from ${url.host} exceeds the ${maxBytes}-byte limit`);
  const declaredLength = Number(response.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes) throw tooLarge();

  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  if (!response.complete) throw new VisageError('DOWNLOAD_FAILED', `Response from ${url.host} ended prematurely`);
  return Buffer.concat(chunks, received);
}

/**
 * Downloads `url` and returns the body bytes. Throws VisageError DOWNLOAD_FAILED (bad status,
 * timeout, body too large, too many redirects, connection error, unsupported protocol) or
 * BLOCKED_ADDRESS (non-public address while the guard is on).
 */
export async function downloadBytes(input: string | URL, options: DownloadOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_OPTIONS.timeoutMs;
  const maxBytes = options.maxBytes ?? DEFAULT_DOWNLOAD_OPTIONS.maxBytes;
  const maxRedirects = options.maxRedirects ?? DEFAULT_DOWNLOAD_OPTIONS.maxRedirects;
  const allowPrivateAddresses = options.allowPrivateAddresses ?? DEFAULT_DOWNLOAD_OPTIONS.allowPrivateAddresses;

  let url = parseDownloadUrl(input);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new VisageError('DOWNLOAD_FAILED', `Download from ${url.host} timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    for (let redirects = 0; ; redirects++) {
      const { request, response } = await requestHop(url, allowPrivateAddresses, controller.signal);
      try {
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(status) && location) {
          if (redirects >= maxRedirects) {
            throw new VisageError('DOWNLOAD_FAILED', `Too many redirects (more than ${maxRedirects}) from ${url.host}`);
          }
          url = parseDownloadUrl(new URL(location, url));
          continue;
        }
        if (status < 200 || status > 299) {
          throw new VisageError('DOWNLOAD_FAILED', `HTTP ${status} from ${url.host}${url.pathname}`);
        }
        return await readBody(response, maxBytes, url);
      } finally {
        // Drop the hop's socket whatever happened (redirect bodies are never read).
        request.destroy();
      }
    }
  } catch (err) {
    if (controller.signal.aborted) throw controller.signal.reason;
    if (err instanceof VisageError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new VisageError('DOWNLOAD_FAILED', `Download from ${url.host} failed: ${reason}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
