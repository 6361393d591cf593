// What a control port refuses before routing or reading a body: requests a web page in the
// operator's browser could make. Two attacks, two rules:
//
// - DNS rebinding: a page at http://evil.example:8053 re-points evil.example at 127.0.0.1 and
//   then reads or calls the control port as its own origin. The browser still sends
//   `Host: evil.example:8053`, and a rebinding attack always carries a DNS name (an IP literal
//   cannot be re-pointed). So every request — GET included, since a rebound page can read the
//   answer — must name the port by IP literal, `localhost`, or a name the operator listed.
// - Cross-site requests (CSRF): any page can POST to http://127.0.0.1:9080/v1/purge without
//   reading the answer. Browsers mark such requests with `Origin` and `Sec-Fetch-Site`, and
//   limit what they can send without a CORS preflight (which this port never grants) to the
//   form content types. So a mutating request is refused when either header says another site,
//   and its body must be `application/json`, which no page can send cross-origin unpreflighted.
//   CLI clients (curl, undici/fetch in node) send neither header and are unaffected.
//
// Each function returns the reason for a refusal, or undefined to let the request through.
import type { IncomingHttpHeaders } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

export interface Refusal {
  readonly status: 403 | 415;
  readonly reason: string;
}

export interface HostRule {
  /** Extra host names (lowercase, no port) this port answers to; IP literals and localhost always pass. */
  readonly allowedHosts: ReadonlySet<string>;
  /** The config setting that lists them (e.g. 'dns.control.allowedHosts'), for the refusal's hint. */
  readonly setting?: string | undefined;
}

/** The name part of a Host header value, lowercase: '[::1]:8053' → '::1', 'LocalHost' → 'localhost'. */
export function hostName(host: string): string | undefined {
  const m = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(host) ?? /^([^:[\]]*)(?::(\d{1,5}))?$/.exec(host);
  return m?.[1]?.toLowerCase();
}

/**
 * Any IP literal passes, not only loopback: a page whose origin is an address was served from
 * that address, so its requests go where its Host says (compose reaches the DNS server at
 * 10.53.0.53:8053). `localhost` passes because browsers resolve it to loopback themselves
 * (RFC 6761), never through DNS an attacker controls.
 */
export function checkHost(host: string | undefined, rule: HostRule): Refusal | undefined {
  // node rejects HTTP/1.1 without Host; HTTP/1.0 may omit it, and no browser sends 1.0.
  if (host === undefined) return undefined;
  const name = hostName(host);
  // Brackets are how a URL (and so a Host header) writes IPv6, and only IPv6.
  const allowed = host.startsWith('[')
    ? isIPv6(name ?? '')
    : name !== undefined && (isIPv4(name) || name === 'localhost' || rule.allowedHosts.has(name));
  if (allowed) return undefined;
  const hint = !name
    ? ''
    : rule.setting
      ? `; to use the name '${name}', add it to ${rule.setting}`
      : '; use its IP address';
  return {
    status: 403,
    reason: `Host '${host}' is not allowed on this control port: it answers to IP addresses and localhost${hint}`,
  };
}

/** Refuses a request a browser marks as coming from another site (checked on mutating routes). */
export function checkCrossSite(headers: IncomingHttpHeaders): Refusal | undefined {
  // Sec-Fetch-Site is set by the browser and cannot be forged by a page: 'none' is the user
  // typing the URL, 'same-origin' the port's own origin; 'same-site' includes other ports and
  // subdomains of the same host, which are other programs.
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return {
      status: 403,
      reason: `cross-site request refused (Sec-Fetch-Site: ${site}): control endpoints are not for web pages`,
    };
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  // The control port serves no pages, so the only origin a legitimate browser request can have
  // is the port itself. 'null' (sandboxed frames, file: pages, some redirects) is never it.
  if (!sameOrigin(origin, headers.host)) {
    return {
      status: 403,
      reason: `cross-origin request refused (Origin: ${origin}): control endpoints are not for web pages`,
    };
  }
  return undefined;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).origin === new URL(`http://${host}`).origin;
  } catch {
    return false;
  }
}

/** Does the request carry a body (declared non-empty, or chunked)? Read from headers only. */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && Number(length) !== 0;
}

/**
 * A mutating request's body must be JSON. Only `application/json` (any parameters, any case):
 * the three types a page may send cross-origin without a preflight are text/plain,
 * application/x-www-form-urlencoded and multipart/form-data, and curl's `-d` sends the second.
 * A bodiless request passes: browsers send Origin on every cross-origin POST, so checkCrossSite
 * covers it, and `curl -X POST …/v1/reload` keeps working.
 */
export function checkContentType(headers: IncomingHttpHeaders): Refusal | undefined {
  if (!hasBody(headers)) return undefined;
  const type = headers['content-type'];
  const media = type?.split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'application/json') return undefined;
  return {
    status: 415,
    reason: `request body must be JSON sent as 'Content-Type: application/json' (got ${type === undefined ? 'none' : `'${type}'`}); with curl add -H 'content-type: application/json'`,
  };
}
