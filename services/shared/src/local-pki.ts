/**
 * A small certificate authority for the mesh on one machine: `npm start` and the tests make one CA and a
 * certificate per service identity (a SPIFFE-style URI SAN, `spiffe://maas/<name>`), written as PEM files in
 * the layout cert-manager gives a Secret (tls.crt, tls.key, ca.crt), so services read them the same way here
 * and in a cluster. ECDSA P-256 through WebCrypto: a whole CA with five certificates takes milliseconds.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { serviceIdentity } from './peer-identity.js';

// x509's types are the DOM's WebCrypto ones; Node's webcrypto is the same API under other type names.
x509.cryptoProvider.set(webcrypto as never);
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

/** A CA able to sign: its certificate (PEM) and key. */
export interface CertificateAuthority {
  certificatePem: string;
  keyPem: string;
}

/** One certificate with its key, PEM. */
export interface IssuedCertificate {
  certificatePem: string;
  keyPem: string;
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

/** A new self-signed CA, valid for `days`. */
export async function createCertificateAuthority(options: { name?: string; days?: number } = {}): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${options.name ?? 'maas local CA'}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + (options.days ?? 365) * DAY_MS),
    keys: keys as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certificatePem: certificate.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

export interface IssueOptions {
  /** The identity's short name (gateway, tokenizer, admin, ...): CN and the URI SAN spiffe://maas/<name>. */
  name: string;
  /** DNS names and IP addresses the certificate is valid for as a server (default: localhost, 127.0.0.1, ::1). */
  hosts?: readonly string[];
  days?: number;
}

/** A leaf certificate signed by `ca`, usable as both TLS server and client (each service is both). */
export async function issueCertificate(ca: CertificateAuthority, options: IssueOptions): Promise<IssuedCertificate> {
  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  const caKey = await importKeyPem(ca.keyPem);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const hosts = options.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const names: x509.JsonGeneralName[] = [
    { type: 'url', value: serviceIdentity(options.name) },
    ...hosts.map((host): x509.JsonGeneralName => (/^[\d.]+$|:/.test(host) ? { type: 'ip', value: host } : { type: 'dns', value: host })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${options.name}`,
    issuer: caCertificate.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + (options.days ?? 90) * DAY_MS),
    signingKey: caKey as never,
    publicKey: keys.publicKey as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  return { certificatePem: certificate.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

/** Where one identity's files are: `<dir>/<name>/{tls.crt,tls.key,ca.crt}` (a cert-manager Secret's keys). */
export interface IdentityFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export function identityFiles(dir: string, name: string): IdentityFiles {
  return { certFile: path.join(dir, name, 'tls.crt'), keyFile: path.join(dir, name, 'tls.key'), caFile: path.join(dir, name, 'ca.crt') };
}

/** Writes a certificate and the CA into `files`; the key first readable by this user only. */
export function writeIdentityFiles(files: IdentityFiles, issued: IssuedCertificate, ca: Pick<CertificateAuthority, 'certificatePem'>): void {
  fs.mkdirSync(path.dirname(files.certFile), { recursive: true, mode: 0o700 });
  // Key before certificate: a reloading service that sees the new certificate finds its key already there.
  fs.writeFileSync(files.keyFile, issued.keyPem, { mode: 0o600 });
  fs.writeFileSync(files.certFile, issued.certificatePem);
  fs.writeFileSync(files.caFile, ca.certificatePem);
}

export interface LocalPkiOptions {
  /** Folder holding ca.crt, ca.key and one folder per identity. */
  dir: string;
  /** Identities to issue (service names and `admin`). */
  identities: readonly string[];
}

/**
 * Makes sure `dir` holds a CA and a certificate for each identity: reuses what is there (so restarts keep their
 * trust), issues what is missing or expires within a week.
 */
export async function ensureLocalPki(options: LocalPkiOptions): Promise<{ dir: string; files: Record<string, IdentityFiles>; created: string[] }> {
  const caCertFile = path.join(options.dir, 'ca.crt');
  const caKeyFile = path.join(options.dir, 'ca.key');
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  let ca: CertificateAuthority;
  if (fs.existsSync(caCertFile) && fs.existsSync(caKeyFile) && !expiresSoon(fs.readFileSync(caCertFile, 'utf8'))) {
    ca = { certificatePem: fs.readFileSync(caCertFile, 'utf8'), keyPem: fs.readFileSync(caKeyFile, 'utf8') };
  } else {
    ca = await createCertificateAuthority();
    fs.writeFileSync(caKeyFile, ca.keyPem, { mode: 0o600 });
    fs.writeFileSync(caCertFile, ca.certificatePem);
    created.push('ca');
  }
  const files: Record<string, IdentityFiles> = {};
  for (const name of options.identities) {
    const wanted = identityFiles(options.dir, name);
    files[name] = wanted;
    const current = fs.existsSync(wanted.certFile) && fs.existsSync(wanted.keyFile) && fs.existsSync(wanted.caFile);
    if (current && fs.readFileSync(wanted.caFile, 'utf8') === ca.certificatePem && !expiresSoon(fs.readFileSync(wanted.certFile, 'utf8'))) continue;
    writeIdentityFiles(wanted, await issueCertificate(ca, { name }), ca);
    created.push(name);
  }
  return { dir: options.dir, files, created };
}

function expiresSoon(pem: string): boolean {
  try {
    return new x509.X509Certificate(pem).notAfter.getTime() - Date.now() < 7 * DAY_MS;
  } catch {
    return true;
  }
}
