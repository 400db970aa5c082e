/**
 * TLS for the one port. `--tls-cert/--tls-key` use the operator's files; `--tls` uses a CA that
 * Dockyard generates once into `<data dir>/tls/` (with the system's openssl) and a server
 * certificate it signs for this host's names. Agents pin that CA (`dockyard agent --ca-cert`),
 * docker trusts it from /etc/docker/certs.d/<host:port>/ca.crt.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';

export type TlsConfig = { mode: 'files'; certFile: string; keyFile: string } | { mode: 'self-signed' };

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The generated CA's certificate file (self-signed mode): what agents and docker must trust. */
  caFile?: string;
  /** SHA-256 fingerprint of the served certificate: the embedded agent pins exactly this one. */
  fingerprint256: string;
}

export function loadTls(config: TlsConfig, dataDir: string, names: readonly string[]): TlsMaterial {
  if (config.mode === 'files') {
    const cert = readFileSync(config.certFile);
    return { cert, key: readFileSync(config.keyFile), fingerprint256: new X509Certificate(cert).fingerprint256 };
  }
  const dir = join(dataDir, 'tls');
  const files = { caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  if (!existsSync(files.caCert) || !existsSync(files.caKey)) generateCa(dir, files.caCert, files.caKey);
  const wanted = subjectAltNames(names);
  if (!existsSync(files.cert) || !existsSync(files.key) || !covers(readFileSync(files.cert), wanted)) {
    generateServerCert(dir, files, wanted);
  }
  const cert = readFileSync(files.cert);
  return { cert, key: readFileSync(files.key), caFile: files.caCert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}

/** The names the server certificate is valid for: loopback, this host's name, and the listen/registry hosts. */
function subjectAltNames(names: readonly string[]): string[] {
  const all = new Set(['IP:127.0.0.1', 'IP:::1', 'DNS:localhost', `DNS:${hostname()}`]);
  for (const n of names) {
    if (!n || n === '0.0.0.0' || n === '::') continue;
    all.add(isIP(n) ? `IP:${n}` : `DNS:${n}`);
  }
  return [...all];
}

/** Whether an existing certificate already names everything wanted (else it is re-issued). */
function covers(pem: Buffer, wanted: string[]): boolean {
  const have = new X509Certificate(pem).subjectAltName ?? '';
  const normalised = have.split(', ').map((s) => s.replace('IP Address:', 'IP:').replace(/^IP:0:0:0:0:0:0:0:1$/, 'IP:::1'));
  return wanted.every((w) => normalised.includes(w));
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('--tls needs the openssl command to generate its CA (apt-get install openssl), or pass --tls-cert and --tls-key');
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString().trim()}`);
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function generateCa(dir: string, caCert: string, caKey: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl(['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', caCert, '-days', '3650', '-subj', `/CN=Dockyard CA ${hostname()}`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  chmodSync(caKey, 0o600);
}

function generateServerCert(dir: string, files: { caCert: string; caKey: string; cert: string; key: string }, sans: string[]): void {
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, `subjectAltName=${sans.join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  try {
    openssl(['req', ...EC_KEY, '-keyout', files.key, '-out', csr, '-subj', '/CN=dockyard']);
    chmodSync(files.key, 0o600);
    openssl(['x509', '-req', '-in', csr, '-CA', files.caCert, '-CAkey', files.caKey, '-CAcreateserial', '-out', files.cert, '-days', '825', '-sha256', '-extfile', ext]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}
