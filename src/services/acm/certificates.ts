/**
 * ACM's imported certificates: ImportCertificate (new, or re-import onto an ARN), describe, list,
 * delete, tags, and the TLS material the load balancer's HTTPS listeners serve. The private key
 * is sealed with the data dir's SecretBox and never leaves through the API.
 */
import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { AwsError } from '../../aws/errors.js';
import type { ImportCertificateRequest, ListCertificatesRequest } from '../../aws/generated/acm.js';
import type { Clock } from '../../core/clock.js';
import { paginate } from '../../core/pagination.js';
import type { SecretBox } from '../../core/secret-box.js';
import * as c from '../../store/collections.js';
import type { AcmCertificateDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';

interface Scope {
  accountId: string;
  region: string;
}

export const validation = (message: string) => new AwsError('ValidationException', message);
const notFound = (arn: string) => new AwsError('ResourceNotFoundException', `Could not find certificate ${arn.slice(0, 256)}.`);
const invalidArn = (arn: string) => new AwsError('InvalidArnException', `String '${arn.slice(0, 256)}' is not a valid ARN.`);

const ARN = /^arn:aws:acm:([a-z0-9-]{1,32}):(\d{12}):certificate\/[0-9a-f-]{36}$/;
const MAX_PEM = 32 * 1024;

/** Checks the ARN's form and that it is the caller's (another account's or region's: not found). */
function checkArn(scope: Scope, arn: string): void {
  const m = ARN.exec(arn);
  if (!m) throw invalidArn(arn);
  if (m[1] !== scope.region || m[2] !== scope.accountId) throw notFound(arn);
}

function keyAlgorithm(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `RSA_${d.modulusLength ?? 2048}`;
  if (key.asymmetricKeyType === 'ec') return { prime256v1: 'EC_prime256v1', secp384r1: 'EC_secp384r1', secp521r1: 'EC_secp521r1' }[d.namedCurve ?? ''] ?? 'EC_prime256v1';
  return 'RSA_2048';
}

const SUPPORTED_KEYS = new Set(['RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1']);

/** Parses and checks the PEMs as ACM does: one certificate, a matching unencrypted private key, a chain of certificates. */
function parse(input: ImportCertificateRequest) {
  const pem = input.Certificate.toString('utf8');
  const keyPem = input.PrivateKey.toString('utf8');
  const chainPem = input.CertificateChain?.toString('utf8');
  if (pem.length > MAX_PEM || keyPem.length > MAX_PEM || (chainPem?.length ?? 0) > 2 * 1024 * 1024) throw validation('The certificate, private key or chain is too large.');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw validation('Could not parse the certificate: it must be a PEM-encoded X.509 certificate.');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem' });
  } catch {
    throw validation('Could not parse the private key: it must be a PEM-encoded, unencrypted private key.');
  }
  if (!cert.checkPrivateKey(key)) throw validation('The private key does not match the public key in the certificate.');
  if (chainPem) {
    const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw validation('Could not parse the certificate chain.');
    for (const b of blocks) {
      try {
        new X509Certificate(b);
      } catch {
        throw validation('Could not parse the certificate chain.');
      }
    }
  }
  const algorithm = keyAlgorithm(key);
  if (!SUPPORTED_KEYS.has(algorithm)) throw validation(`The certificate's key algorithm is not supported.`);
  const sans = (cert.subjectAltName ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  const domainName = cn ?? sans[0] ?? '';
  return {
    cert,
    pem,
    keyPem,
    chainPem,
    domainName,
    subjectAlternativeNames: sans.length ? sans : domainName ? [domainName] : [],
    keyAlgorithm: algorithm,
    serial: cert.serialNumber.toLowerCase().match(/.{1,2}/g)!.join(':'),
    subject: cert.subject.split('\n').reverse().join(','),
    issuer: cert.issuer.split('\n').reverse().join(','),
    notBefore: Date.parse(cert.validFrom) / 1000,
    notAfter: Date.parse(cert.validTo) / 1000,
  };
}

function mergeTags(current: AcmCertificateDoc['tags'], added: readonly { Key: string; Value?: string }[] | undefined) {
  const next = [...current];
  for (const t of added ?? []) {
    if (/^aws:/i.test(t.Key)) throw new AwsError('InvalidTagException', `Tag keys starting with 'aws:' are reserved.`);
    const i = next.findIndex((x) => x.Key === t.Key);
    const tag = { Key: t.Key, ...(t.Value !== undefined ? { Value: t.Value } : {}) };
    if (i >= 0) next[i] = tag;
    else next.push(tag);
  }
  if (next.length > 50) throw new AwsError('TooManyTagsException', 'The request contains too many tags. Try the request again with fewer tags.');
  return next;
}

export interface TlsMaterial {
  cert: string;
  key: string;
}

export class Certificates {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly secrets: SecretBox,
    /** The resources using a certificate (HTTPS listeners), for InUseBy and DeleteCertificate. */
    private readonly inUseBy: (arn: string) => Promise<string[]> = async () => [],
  ) {}

  async import(scope: Scope, input: ImportCertificateRequest) {
    const p = parse(input);
    if (input.CertificateArn !== undefined) {
      checkArn(scope, input.CertificateArn);
      if (input.Tags?.length) throw validation('Tags cannot be specified when re-importing a certificate.');
    }
    const sealedPrivateKey = this.secrets.seal(p.keyPem);
    const signatureAlgorithm = 'SHA256WITHRSA';
    return this.store.write(async (tx) => {
      const now = this.clock.now();
      const fields = {
        domainName: p.domainName,
        subjectAlternativeNames: p.subjectAlternativeNames,
        certificatePem: p.pem,
        ...(p.chainPem ? { chainPem: p.chainPem } : {}),
        sealedPrivateKey,
        serial: p.serial,
        subject: p.subject,
        issuer: p.issuer,
        notBefore: p.notBefore,
        notAfter: p.notAfter,
        keyAlgorithm: p.keyAlgorithm,
        signatureAlgorithm,
        importedAt: now,
      };
      if (input.CertificateArn !== undefined) {
        const row = await tx.get(c.acmCertificates, input.CertificateArn);
        if (!row) throw notFound(input.CertificateArn);
        const doc: AcmCertificateDoc = { ...row.data, ...fields };
        if (!p.chainPem) delete doc.chainPem;
        await tx.update(c.acmCertificates, row, doc);
        return { CertificateArn: doc.arn };
      }
      if ((await tx.count(c.acmCertificates, { account_region: `${scope.accountId}:${scope.region}` })) >= 2500) {
        throw new AwsError('LimitExceededException', 'The maximum number of certificates has been reached.');
      }
      const arn = `arn:aws:acm:${scope.region}:${scope.accountId}:certificate/${randomUUID()}`;
      const doc: AcmCertificateDoc = { accountId: scope.accountId, region: scope.region, arn, createdAt: now, tags: mergeTags([], input.Tags), ...fields };
      await tx.insert(c.acmCertificates, arn, doc);
      return { CertificateArn: arn };
    });
  }

  private async get(scope: Scope, arn: string): Promise<AcmCertificateDoc> {
    checkArn(scope, arn);
    const row = await this.store.read((tx) => tx.get(c.acmCertificates, arn));
    if (!row) throw notFound(arn);
    return row.data;
  }

  private status(d: AcmCertificateDoc): 'ISSUED' | 'EXPIRED' {
    return d.notAfter < this.clock.now() ? 'EXPIRED' : 'ISSUED';
  }

  async describe(scope: Scope, arn: string) {
    const d = await this.get(scope, arn);
    return {
      Certificate: {
        CertificateArn: d.arn,
        DomainName: d.domainName,
        SubjectAlternativeNames: d.subjectAlternativeNames,
        Serial: d.serial,
        Subject: d.subject,
        Issuer: d.issuer,
        ImportedAt: d.importedAt,
        Status: this.status(d),
        NotBefore: d.notBefore,
        NotAfter: d.notAfter,
        KeyAlgorithm: d.keyAlgorithm,
        SignatureAlgorithm: d.signatureAlgorithm,
        InUseBy: await this.inUseBy(d.arn),
        Type: 'IMPORTED',
        RenewalEligibility: 'INELIGIBLE',
        Options: { CertificateTransparencyLoggingPreference: 'DISABLED' },
      },
    };
  }

  /** GetCertificate: the certificate and chain (never the key). */
  async getPem(scope: Scope, arn: string) {
    const d = await this.get(scope, arn);
    return { Certificate: d.certificatePem, ...(d.chainPem ? { CertificateChain: d.chainPem } : {}) };
  }

  async list(scope: Scope, input: ListCertificatesRequest) {
    const docs = await this.store.read(async (tx) => (await tx.find(c.acmCertificates, { where: { account_region: `${scope.accountId}:${scope.region}` } })).map((r) => r.data));
    const statuses = input.CertificateStatuses;
    const keyTypes = input.Includes?.keyTypes ?? ['RSA_1024', 'RSA_2048', 'EC_prime256v1'];
    const chosen = docs.filter((d) => (!statuses?.length || (statuses as string[]).includes(this.status(d))) && (keyTypes as string[]).includes(d.keyAlgorithm));
    chosen.sort((a, b) => (input.SortOrder === 'DESCENDING' ? b.createdAt - a.createdAt : a.createdAt - b.createdAt) || a.arn.localeCompare(b.arn));
    const page = paginate(chosen, (d) => d.arn, input.MaxItems ?? 1000, input.NextToken);
    const summaries = [];
    for (const d of page.items) {
      summaries.push({
        CertificateArn: d.arn,
        DomainName: d.domainName,
        SubjectAlternativeNameSummaries: d.subjectAlternativeNames,
        HasAdditionalSubjectAlternativeNames: false,
        Status: this.status(d),
        Type: 'IMPORTED',
        KeyAlgorithm: d.keyAlgorithm,
        InUse: (await this.inUseBy(d.arn)).length > 0,
        RenewalEligibility: 'INELIGIBLE',
        NotBefore: d.notBefore,
        NotAfter: d.notAfter,
        ImportedAt: d.importedAt,
        CreatedAt: d.createdAt,
      });
    }
    return { CertificateSummaryList: summaries, NextToken: page.nextToken };
  }

  async delete(scope: Scope, arn: string) {
    checkArn(scope, arn);
    const users = await this.inUseBy(arn);
    if (users.length) throw new AwsError('ResourceInUseException', `Certificate ${arn} in account ${scope.accountId} is in use.`);
    await this.store.write(async (tx) => {
      if (!(await tx.delete(c.acmCertificates, arn))) throw notFound(arn);
    });
    return {};
  }

  async addTags(scope: Scope, arn: string, tags: readonly { Key: string; Value?: string }[]) {
    checkArn(scope, arn);
    await this.store.write(async (tx) => {
      const row = await tx.get(c.acmCertificates, arn);
      if (!row) throw notFound(arn);
      await tx.update(c.acmCertificates, row, { ...row.data, tags: mergeTags(row.data.tags, tags) });
    });
    return {};
  }

  async removeTags(scope: Scope, arn: string, tags: readonly { Key: string; Value?: string }[]) {
    checkArn(scope, arn);
    await this.store.write(async (tx) => {
      const row = await tx.get(c.acmCertificates, arn);
      if (!row) throw notFound(arn);
      // A tag given with a value is removed only when its value matches, as ACM does.
      const next = row.data.tags.filter((t) => !tags.some((r) => r.Key === t.Key && (r.Value === undefined || r.Value === t.Value)));
      await tx.update(c.acmCertificates, row, { ...row.data, tags: next });
    });
    return {};
  }

  async listTags(scope: Scope, arn: string) {
    return { Tags: (await this.get(scope, arn)).tags };
  }

  /** Whether `arn` names one of the caller's certificates (CreateListener's check). */
  async exists(scope: Scope, arn: string): Promise<boolean> {
    if (!ARN.exec(arn)) return false;
    return (await this.store.read((tx) => tx.get(c.acmCertificates, arn)))?.data.accountId === scope.accountId;
  }

  /** The PEM certificate (with its chain) and the unsealed private key, for an HTTPS listener. */
  async tlsMaterial(arn: string): Promise<TlsMaterial | undefined> {
    const row = await this.store.read((tx) => tx.get(c.acmCertificates, arn));
    if (!row) return undefined;
    return { cert: row.data.chainPem ? `${row.data.certificatePem.trim()}\n${row.data.chainPem.trim()}\n` : row.data.certificatePem, key: this.secrets.open(row.data.sealedPrivateKey) };
  }
}
