import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';

/**
 * The SSRF guard for base URLs a user types in (a company's own DMS, a billing server): the
 * URL must be https to a public address, unless its `host:port` is in the operator's allowlist
 * (`FINANCE_ALLOWED_HOSTS`: tests, on-premises set-ups). The address rules are checked on the
 * URL (assertSafeBaseUrl, for a 400 when the user saves it) and again on every connection
 * (guardedConnector: the address the socket really opens to, so a name that re-resolves to
 * 127.0.0.1 later, DNS rebinding, still does not get through). Redirects are never followed
 * by HttpClient; a client built with `urlGuard` refuses 3xx answers outright.
 */

export type UnsafeUrlReason =
  /** Not a URL at all. */
  | 'invalid'
  /** Not https (and not allowlisted), or not http(s) at all. */
  | 'protocol'
  /** `user:password@` in the URL: credentials belong in the connection's token. */
  | 'credentials'
  /** Resolves to (or is) a loopback, private, link-local, metadata, multicast or reserved address. */
  | 'address'
  /** The host name does not resolve. */
  | 'unresolvable'
  /** The target answered with a redirect, which a guarded client does not follow. */
  | 'redirect';

export class UnsafeUrlError extends Error {
  constructor(
    readonly reason: UnsafeUrlReason,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeUrlError';
  }
}

export type LookupAllFn = (hostname: string) => Promise<LookupAddress[]>;

export interface UrlGuardOptions {
  /** Lower-case `host:port` entries (`127.0.0.1:8080`, `dms.local:443`, `[::1]:80`) exempt from every rule but http(s). */
  allowedHosts: readonly string[];
  /** DNS resolution, every address of the name; default `dns.lookup(host, { all: true })`. For tests. */
  lookupAll?: LookupAllFn;
}

type Range = { name: string; v4?: [string, number][]; v6?: [string, number][] };

/** What is refused, by name (the name is in the error message). */
const RANGES: Range[] = [
  { name: 'unspecified', v4: [['0.0.0.0', 8]], v6: [['::', 128]] },
  { name: 'loopback', v4: [['127.0.0.0', 8]], v6: [['::1', 128]] },
  { name: 'metadata', v4: [['169.254.169.254', 32], ['100.100.100.200', 32]], v6: [['fd00:ec2::254', 128]] },
  { name: 'private', v4: [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] },
  { name: 'shared (CGNAT)', v4: [['100.64.0.0', 10]] },
  { name: 'link-local', v4: [['169.254.0.0', 16]], v6: [['fe80::', 10]] },
  { name: 'unique-local', v6: [['fc00::', 7], ['fec0::', 10]] },
  { name: 'multicast', v4: [['224.0.0.0', 4]], v6: [['ff00::', 8]] },
  {
    name: 'reserved',
    v4: [['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['240.0.0.0', 4]],
    v6: [['::', 96], ['100::', 64], ['2001:db8::', 32]],
  },
];

const LISTS = RANGES.map(({ name, v4, v6 }) => {
  const list = new BlockList();
  for (const [net, prefix] of v4 ?? []) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6 ?? []) list.addSubnet(net, prefix, 'ipv6');
  return { name, list };
});

/** The eight hextets of an IPv6 address (any valid textual form, including a dotted IPv4 tail). */
function hextets(ip: string): number[] {
  let text = ip.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((h) => parseInt(h, 16));
}

function v4FromHextets(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** An IPv4 address an IPv6 one carries and may reach: IPv4-mapped, NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
function embeddedV4(ip: string): string | undefined {
  const h = hextets(ip);
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) return v4FromHextets(h[6], h[7]);
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return v4FromHextets(h[6], h[7]);
  if (h[0] === 0x2002) return v4FromHextets(h[1], h[2]);
  return undefined;
}

/**
 * Why an IP address must not be connected to (`loopback`, `private`, `metadata`...), or
 * undefined for a public one. Anything that is not an IP address at all is refused too.
 */
export function blockedAddressKind(address: string): string | undefined {
  const ip = address.replace(/^\[|\]$/g, '');
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedV4(ip);
    if (v4 !== undefined) return blockedAddressKind(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(({ list }) => list.check(ip, type))?.name;
}

/** `host:port` of a URL as the allowlist spells it: lower case, the port always explicit, IPv6 in brackets. */
export function hostPortOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname.toLowerCase()}:${port}`;
}

function hostPort(hostname: string, port: string | number, protocol: string): string {
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  return `${host.toLowerCase()}:${port || (protocol === 'https:' ? '443' : '80')}`;
}

const defaultLookupAll: LookupAllFn = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

function checkAddresses(hostname: string, addresses: readonly LookupAddress[]): void {
  if (addresses.length === 0) throw new UnsafeUrlError('unresolvable', `${hostname} does not resolve`);
  for (const { address } of addresses) {
    const kind = blockedAddressKind(address);
    if (kind) throw new UnsafeUrlError('address', hostname === address ? `${address} is a ${kind} address` : `${hostname} resolves to ${address}, a ${kind} address`);
  }
}

async function resolveChecked(hostname: string, lookupAll: LookupAllFn): Promise<void> {
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(hostname);
  } catch (err) {
    throw new UnsafeUrlError('unresolvable', `${hostname} does not resolve (${(err as { code?: string }).code ?? (err as Error).message})`);
  }
  checkAddresses(hostname, addresses);
}

/**
 * The URL, parsed, when it may be used as a per-connection base URL; else an UnsafeUrlError
 * saying why (the message names the host, never a path or query). Every address the host
 * resolves to must be public: one private record among public ones is refused.
 */
export async function assertSafeBaseUrl(input: string | URL, options: UrlGuardOptions): Promise<URL> {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new UnsafeUrlError('invalid', 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UnsafeUrlError('protocol', `${url.protocol} is not http(s)`);
  if (url.username || url.password) throw new UnsafeUrlError('credentials', 'must not carry a user name or password');
  if (options.allowedHosts.includes(hostPortOf(url))) return url;
  if (url.protocol !== 'https:') throw new UnsafeUrlError('protocol', `must be https (${hostPortOf(url)} is not in FINANCE_ALLOWED_HOSTS)`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) checkAddresses(host, [{ address: host, family: isIP(host) }]);
  else await resolveChecked(host, options.lookupAll ?? defaultLookupAll);
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect that resolves as dns.lookup does and refuses a name with any
 * blocked address, so the socket can only open to an address that was checked.
 */
export function guardedLookup(lookupAll: LookupAllFn = defaultLookupAll) {
  return (hostname: string, options: LookupOptions | LookupAllOptions, callback: LookupCallback): void => {
    lookupAll(hostname).then(
      (addresses) => {
        let wanted: LookupAddress[];
        try {
          checkAddresses(hostname, addresses);
          wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
          if (wanted.length === 0) throw new UnsafeUrlError('unresolvable', `${hostname} has no IPv${options.family} address`);
        } catch (err) {
          callback(Object.assign(err as UnsafeUrlError, { code: 'ERR_UNSAFE_URL' }), '');
          return;
        }
        // Called once, outside the checks: an exception in the socket's own code is not taken for a refusal.
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      },
      // The resolver's own error (ENOTFOUND, EAI_AGAIN): the client reports it as unreachable.
      (err: unknown) => callback(err as NodeJS.ErrnoException, ''),
    );
  };
}

/**
 * An undici connector that applies the address rules to the socket it opens: an IP literal is
 * checked as is, a name through guardedLookup. Allowlisted `host:port` connect unchecked.
 */
export function guardedConnector(options: UrlGuardOptions & { timeout?: number }): buildConnector.connector {
  const plain = buildConnector({ timeout: options.timeout });
  const checked = buildConnector({ timeout: options.timeout, lookup: guardedLookup(options.lookupAll) } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const { hostname, port, protocol } = opts;
    if (options.allowedHosts.includes(hostPort(hostname, port, protocol))) return plain(opts, callback);
    if (protocol !== 'https:') {
      callback(Object.assign(new UnsafeUrlError('protocol', `must be https (${hostPort(hostname, port, protocol)} is not in FINANCE_ALLOWED_HOSTS)`), { code: 'ERR_UNSAFE_URL' }), null);
      return;
    }
    const ip = hostname.replace(/^\[|\]$/g, '');
    if (isIP(ip)) {
      const kind = blockedAddressKind(ip);
      if (kind) {
        callback(Object.assign(new UnsafeUrlError('address', `${ip} is a ${kind} address`), { code: 'ERR_UNSAFE_URL' }), null);
        return;
      }
    }
    return checked(opts, callback);
  };
}
