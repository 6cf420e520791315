/**
 * TLS certificates for the QUIC/WebTransport listener.
 *
 * A development certificate is generated in-process (WebCrypto + `@peculiar/x509`, no openssl
 * CLI) with exactly what browsers accept for `serverCertificateHashes` and what rustls accepts
 * for a server: ECDSA P-256, a leaf (`basicConstraints` critical, `CA:FALSE`), SANs for
 * `localhost`, `127.0.0.1` and the configured hosts, and a validity of at most 14 days.
 *
 * ## Renewal
 *
 * A development certificate lives only 10 days by default, so a long-running server must renew
 * it. The server (not this module) owns that loop: it waits {@linkcode renewalDelayMs}, calls
 * {@linkcode loadOrCreateDevCertificate} again (which regenerates the files once the renew window
 * is reached), then reloads: `listener.stop()` on the old `Deno.QuicListener` and
 * `endpoint.listen({ cert, key, alpnProtocols })` again on the same `Deno.QuicEndpoint` (same
 * port; checked on Deno 2.9.6), and publishes the new `sha256` to browsers (they pin it with
 * `serverCertificateHashes`, so a page must fetch the new hash before reconnecting).
 * Connections that already finished their handshake stay open across the reload. Note that
 * `stop()` does not settle an `incoming()` call already pending on the old listener (closing
 * the endpoint does), so an accept loop must not wait for it.
 *
 * @module
 */
// `@peculiar/x509` resolves its algorithms through tsyringe, which needs the Reflect metadata
// API when the library is first evaluated: this import must come before it.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { dirname, join } from "node:path";

/**
 * Default validity of a development certificate, in days.
 *
 * @example
 * ```ts
 * import { DEFAULT_VALIDITY_DAYS } from "@clutchcall/voice/server";
 *
 * const ms = DEFAULT_VALIDITY_DAYS * 24 * 60 * 60 * 1000;
 * ```
 */
export const DEFAULT_VALIDITY_DAYS = 10;

/**
 * Default time before `notAfter` at which a development certificate is renewed: 2 days.
 *
 * @example
 * ```ts
 * import { DEFAULT_RENEW_BEFORE_MS, renewalTime } from "@clutchcall/voice/server";
 *
 * const at = renewalTime(new Date("2030-01-11T00:00:00Z"), DEFAULT_RENEW_BEFORE_MS);
 * ```
 */
export const DEFAULT_RENEW_BEFORE_MS: number = 2 * 24 * 60 * 60 * 1000;

/** Browsers reject `serverCertificateHashes` certificates valid for longer than this. */
const MAX_VALIDITY_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;
/** `notBefore` is set this far in the past to tolerate small clock differences. */
const BACKDATE_MS = 60 * 1000;
/** The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const EC_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { ...EC_P256, hash: "SHA-256" } as const;

/**
 * A certificate and its private key, ready for `Deno.QuicEndpoint.listen({ cert, key })`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadCertificate, loadOrCreateDevCertificate, type TlsCertificate } from "@clutchcall/voice/server";
 *
 * const dev = await loadOrCreateDevCertificate({ dataDir: await Deno.makeTempDir() });
 * const tls: TlsCertificate = await loadCertificate(dev.certPath, dev.keyPath);
 * const hashes = [{ algorithm: "sha-256", value: tls.sha256 }]; // for serverCertificateHashes
 * assertEquals(hashes[0].value.length, 32);
 * assertEquals(tls.sha256Hex, dev.sha256Hex);
 * ```
 */
export interface TlsCertificate {
  /** The certificate chain in PEM, leaf first. */
  readonly certPem: string;
  /** The private key in PEM. */
  readonly keyPem: string;
  /** SHA-256 of the DER-encoded leaf certificate (the `serverCertificateHashes` value). */
  readonly sha256: Uint8Array;
  /** {@linkcode TlsCertificate.sha256} as lowercase hex without separators. */
  readonly sha256Hex: string;
  /** {@linkcode TlsCertificate.sha256} in standard base64. */
  readonly sha256Base64: string;
  /** SHA-256 of the leaf's SubjectPublicKeyInfo in base64 (Chromium's
   * `--ignore-certificate-errors-spki-list`). */
  readonly spkiSha256Base64: string;
  /** Start of the leaf's validity. */
  readonly notBefore: Date;
  /** End of the leaf's validity. */
  readonly notAfter: Date;
  /** Where the certificate was read from or written to. */
  readonly certPath: string;
  /** Where the private key was read from or written to. */
  readonly keyPath: string;
}

/**
 * A development certificate from {@linkcode loadOrCreateDevCertificate}.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { type DevCertificate, loadOrCreateDevCertificate } from "@clutchcall/voice/server";
 *
 * const dataDir = await Deno.makeTempDir();
 * const first: DevCertificate = await loadOrCreateDevCertificate({ dataDir });
 * const again: DevCertificate = await loadOrCreateDevCertificate({ dataDir });
 * assert(first.generated && !again.generated); // reused from disk the second time
 * assert(again.renewAt < again.notAfter);
 * ```
 */
export interface DevCertificate extends TlsCertificate {
  /** True when the certificate was generated by this call, false when reused from disk. */
  readonly generated: boolean;
  /** When the server should renew it: `notAfter` minus the renew window. */
  readonly renewAt: Date;
}

/**
 * Options for {@linkcode loadOrCreateDevCertificate}.
 *
 * @example
 * ```ts
 * import type { DevCertificateOptions } from "@clutchcall/voice/server";
 *
 * const options: DevCertificateOptions = {
 *   dataDir: "./.voice",
 *   hosts: ["192.168.1.20", "voice.local"],
 *   validityDays: 10,
 * };
 * ```
 */
export interface DevCertificateOptions {
  /** The server's data directory; files go to `<dataDir>/tls/`. */
  readonly dataDir: string;
  /** Host names or IP addresses to add to `localhost` and `127.0.0.1` as SANs. Wildcard bind
   * addresses (`0.0.0.0`, `::`) are ignored. */
  readonly hosts?: readonly string[];
  /** The current time (tests inject it). Default: `new Date()`. */
  readonly now?: Date;
  /** Validity of a new certificate, in days, at most 14. Default: 10. */
  readonly validityDays?: number;
  /** Regenerate when the existing certificate expires within this many ms. Default: 2 days. */
  readonly renewBeforeMs?: number;
}

/**
 * Returns a development certificate for the QUIC/WebTransport listener, reusing
 * `<dataDir>/tls/dev-cert.pem` and `dev-key.pem` when they are still valid past the renew
 * window, match each other and cover the requested hosts, and otherwise generating and writing
 * new ones (the key file with mode 0600, both written atomically).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadOrCreateDevCertificate } from "@clutchcall/voice/server";
 *
 * const dataDir = await Deno.makeTempDir();
 * const tls = await loadOrCreateDevCertificate({ dataDir, hosts: ["127.0.0.1"] });
 * const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
 * endpoint.listen({ cert: tls.certPem, key: tls.keyPem, alpnProtocols: ["moq-00"] });
 * assertEquals(atob(tls.sha256Base64).length, 32); // the serverCertificateHashes value
 * endpoint.close();
 * ```
 */
export async function loadOrCreateDevCertificate(
  options: DevCertificateOptions,
): Promise<DevCertificate> {
  const {
    dataDir,
    hosts = [],
    now = new Date(),
    validityDays = DEFAULT_VALIDITY_DAYS,
    renewBeforeMs = DEFAULT_RENEW_BEFORE_MS,
  } = options;
  if (!(validityDays > 0 && validityDays <= MAX_VALIDITY_DAYS)) {
    throw new RangeError(
      `Cannot create development certificate: validityDays must be in (0, ${MAX_VALIDITY_DAYS}], got ${validityDays}`,
    );
  }
  if (!(renewBeforeMs >= 0 && renewBeforeMs < validityDays * DAY_MS)) {
    throw new RangeError(
      `Cannot create development certificate: renewBeforeMs must be in [0, validityDays), got ${renewBeforeMs}`,
    );
  }
  const names = subjectAltNames(hosts);
  const dir = join(dataDir, "tls");
  const certPath = join(dir, "dev-cert.pem");
  const keyPath = join(dir, "dev-key.pem");

  const existing = await readReusable({ certPath, keyPath, names, now, renewBeforeMs });
  if (existing) {
    return {
      ...existing,
      generated: false,
      renewAt: renewalTime(existing.notAfter, renewBeforeMs),
    };
  }

  const { certPem, keyPem } = await generate(names, now, validityDays);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomically(keyPath, keyPem, 0o600);
  await writeAtomically(certPath, certPem, 0o644);
  const described = await describe(certPem, keyPem, certPath, keyPath);
  return {
    ...described,
    generated: true,
    renewAt: renewalTime(described.notAfter, renewBeforeMs),
  };
}

/**
 * Loads a user-supplied certificate (`--cert`) and private key (`--key`) and computes the same
 * fingerprints as for a development certificate. The PEM may hold a chain; the fingerprints are
 * of the first (leaf) certificate. When the key is an ECDSA P-256 PKCS#8 key it is checked
 * against the certificate. Expiry is not checked: compare `notAfter` yourself.
 *
 * @throws {SyntaxError} When the files hold no PEM certificate or private key.
 * @throws {TypeError} When the key does not belong to the certificate.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { loadCertificate, loadOrCreateDevCertificate } from "@clutchcall/voice/server";
 *
 * // Any PEM pair; here the development certificate's files.
 * const dev = await loadOrCreateDevCertificate({ dataDir: await Deno.makeTempDir() });
 * const tls = await loadCertificate(dev.certPath, dev.keyPath);
 * assert(tls.notAfter.getTime() > Date.now(), "not expired"); // expiry is yours to check
 * ```
 */
export async function loadCertificate(certPath: string, keyPath: string): Promise<TlsCertificate> {
  const [certPem, keyPem] = await Promise.all([
    readPemFile(certPath, "certificate"),
    readPemFile(keyPath, "key"),
  ]);
  return await describe(certPem, keyPem, certPath, keyPath);
}

/**
 * Returns when a certificate should be renewed: `renewBeforeMs` before `notAfter`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { renewalTime } from "@clutchcall/voice/server";
 *
 * const at = renewalTime(new Date("2030-01-11T00:00:00Z"));
 * assertEquals(at.toISOString(), "2030-01-09T00:00:00.000Z");
 * ```
 */
export function renewalTime(notAfter: Date, renewBeforeMs = DEFAULT_RENEW_BEFORE_MS): Date {
  return new Date(notAfter.getTime() - renewBeforeMs);
}

/**
 * Returns how many milliseconds a server should wait before renewing `cert` (0 when the renew
 * time has passed), capped at 2^31 - 1 so the value is safe for `setTimeout`. When the cap
 * applies the timer fires early: call this again then, and renew only when it returns 0.
 *
 * @example
 * ```ts
 * import { loadOrCreateDevCertificate, renewalDelayMs } from "@clutchcall/voice/server";
 *
 * const options = { dataDir: "./.voice", hosts: ["127.0.0.1"] };
 * let tls = await loadOrCreateDevCertificate(options);
 * setTimeout(async () => {
 *   tls = await loadOrCreateDevCertificate(options); // regenerates: past the renew window
 *   // ... reopen the QUIC listener with tls.certPem / tls.keyPem, publish tls.sha256
 * }, renewalDelayMs(tls));
 * ```
 */
export function renewalDelayMs(
  cert: { readonly notAfter: Date },
  options: { readonly now?: Date; readonly renewBeforeMs?: number } = {},
): number {
  const { now = new Date(), renewBeforeMs = DEFAULT_RENEW_BEFORE_MS } = options;
  const delay = renewalTime(cert.notAfter, renewBeforeMs).getTime() - now.getTime();
  return Math.min(Math.max(0, delay), MAX_TIMER_MS);
}

// --- internals -------------------------------------------------------------------------------

/** The SANs for `hosts`, `localhost` and `127.0.0.1` first, without duplicates. */
function subjectAltNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  const names: x509.JsonGeneralName[] = [
    { type: "dns", value: "localhost" },
    { type: "ip", value: "127.0.0.1" },
  ];
  for (const raw of hosts) {
    const host = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
    if (host === "0.0.0.0" || host === "::") continue;
    let name: x509.JsonGeneralName;
    if (isIPv4(host) || host.includes(":")) {
      name = { type: "ip", value: host };
    } else if (isDnsName(host)) {
      name = { type: "dns", value: host.toLowerCase() };
    } else {
      throw new TypeError(`Cannot create development certificate: invalid host "${raw}"`);
    }
    const key = generalNameKey(name); // also validates IPv6 literals
    if (!names.some((n) => generalNameKey(n) === key)) names.push(name);
  }
  return names;
}

function isIPv4(host: string): boolean {
  const parts = host.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isDnsName(host: string): boolean {
  return host.length <= 253 &&
    host.split(".").every((label) => /^[a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

/** A canonical key for a SAN entry: its DER encoding in hex. */
function generalNameKey(name: x509.JsonGeneralName): string {
  try {
    return toHex(new Uint8Array(new x509.GeneralName(name.type, name.value).rawData));
  } catch (cause) {
    throw new TypeError(`Cannot create development certificate: invalid host "${name.value}"`, {
      cause,
    });
  }
}

async function generate(
  names: x509.JsonGeneralName[],
  now: Date,
  validityDays: number,
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] &= 0x7f; // a positive INTEGER
  serial[0] |= 0x01; // without a leading zero byte
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: toHex(serial),
    name: "CN=localhost",
    notBefore,
    notAfter: new Date(notBefore.getTime() + validityDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    certPem: cert.toString("pem") + "\n",
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") + "\n",
  };
}

/** The certificate on disk when it can be reused as is, else `undefined`. */
async function readReusable(args: {
  certPath: string;
  keyPath: string;
  names: x509.JsonGeneralName[];
  now: Date;
  renewBeforeMs: number;
}): Promise<TlsCertificate | undefined> {
  const { certPath, keyPath, names, now, renewBeforeMs } = args;
  let described: TlsCertificate;
  let leaf: x509.X509Certificate;
  try {
    described = await loadCertificate(certPath, keyPath);
    leaf = leafOf(described.certPem, certPath);
  } catch {
    return undefined; // missing, unreadable, corrupt or mismatched: regenerate
  }
  const t = now.getTime();
  if (t < described.notBefore.getTime()) return undefined;
  if (t >= renewalTime(described.notAfter, renewBeforeMs).getTime()) return undefined;
  if (!isEcP256(leaf)) return undefined;
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
  const present = new Set(
    san?.names.items.map((n) => toHex(new Uint8Array(n.rawData))) ?? [],
  );
  if (!names.every((n) => present.has(generalNameKey(n)))) return undefined;
  // Keep the key file private even if someone loosened it.
  if (Deno.build.os !== "windows") await Deno.chmod(keyPath, 0o600).catch(() => {});
  return described;
}

/** Reads a PEM file; the error names the file and what it was for (same error class). */
async function readPemFile(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : error.message;
    const Class = error.constructor as new (message: string, options?: ErrorOptions) => Error;
    throw new Class(`Cannot load certificate: cannot read the ${what} "${path}": ${reason}`, {
      cause: error,
    });
  }
}

async function describe(
  certPem: string,
  keyPem: string,
  certPath: string,
  keyPath: string,
): Promise<TlsCertificate> {
  const leaf = leafOf(certPem, certPath);
  const keyDer = privateKeyOf(keyPem, keyPath);
  if (keyDer && isEcP256(leaf)) await checkKeyMatches(leaf, keyDer, certPath, keyPath);
  const sha256 = new Uint8Array(await crypto.subtle.digest("SHA-256", leaf.rawData));
  const spki = new Uint8Array(await crypto.subtle.digest("SHA-256", leaf.publicKey.rawData));
  return {
    certPem,
    keyPem,
    sha256,
    sha256Hex: toHex(sha256),
    sha256Base64: toBase64(sha256),
    spkiSha256Base64: toBase64(spki),
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    certPath,
    keyPath,
  };
}

function leafOf(certPem: string, certPath: string): x509.X509Certificate {
  let blocks: x509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(certPem);
  } catch (cause) {
    throw new SyntaxError(`Cannot load certificate: "${certPath}" is not PEM`, { cause });
  }
  const first = blocks.find((b) => b.type === "CERTIFICATE");
  if (!first) {
    throw new SyntaxError(`Cannot load certificate: "${certPath}" holds no PEM certificate`);
  }
  try {
    return new x509.X509Certificate(first.rawData);
  } catch (cause) {
    throw new SyntaxError(`Cannot load certificate: "${certPath}" holds an invalid certificate`, {
      cause,
    });
  }
}

/** The PKCS#8 DER of the key, or `undefined` for other key formats (e.g. SEC1, RSA). */
function privateKeyOf(keyPem: string, keyPath: string): ArrayBuffer | undefined {
  let blocks: x509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(keyPem);
  } catch (cause) {
    throw new SyntaxError(`Cannot load private key: "${keyPath}" is not PEM`, { cause });
  }
  const key = blocks.find((b) => b.type.endsWith("PRIVATE KEY"));
  if (!key) throw new SyntaxError(`Cannot load private key: "${keyPath}" holds no private key`);
  return key.type === "PRIVATE KEY" ? key.rawData : undefined;
}

function isEcP256(cert: x509.X509Certificate): boolean {
  const algorithm = cert.publicKey.algorithm as Partial<EcKeyAlgorithm>;
  return algorithm.name === "ECDSA" && algorithm.namedCurve === "P-256";
}

async function checkKeyMatches(
  leaf: x509.X509Certificate,
  pkcs8: ArrayBuffer,
  certPath: string,
  keyPath: string,
): Promise<void> {
  let privateJwk: JsonWebKey;
  try {
    const key = await crypto.subtle.importKey("pkcs8", pkcs8, EC_P256, true, ["sign"]);
    privateJwk = await crypto.subtle.exportKey("jwk", key);
  } catch (cause) {
    throw new TypeError(
      `Cannot load private key: "${keyPath}" is not an ECDSA P-256 key like "${certPath}"`,
      { cause },
    );
  }
  const publicKey = await leaf.publicKey.export(EC_P256, ["verify"]);
  const publicJwk = await crypto.subtle.exportKey("jwk", publicKey);
  if (privateJwk.x !== publicJwk.x || privateJwk.y !== publicJwk.y) {
    throw new TypeError(
      `Cannot load private key: "${keyPath}" does not belong to the certificate "${certPath}"`,
    );
  }
}

/** Writes `data` to a temporary file beside `path`, then renames it over `path`. */
async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(tmp, data, { mode, createNew: true });
    // `mode` at creation is subject to the umask; Windows has no file modes.
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
