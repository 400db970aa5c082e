/**
 * The OCI Distribution data plane under /v2/ on the API port. Registered as an encapsulated
 * fastify plugin with its own pass-through content-type parser, so request bodies stream
 * from the socket to disk (the API's buffering parser never sees them), and each handler
 * answers on the raw response (blob downloads pipe the file straight to the socket).
 *
 * Authentication is Basic with user `AWS` and an ECR authorization token as the password,
 * as docker sends it after `docker login`; the token also picks the account and region whose
 * repositories are served.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../core/clock.js';
import type { EcrRepositoryDoc } from '../store/collections.js';
import { ANY_DIGEST, SHA256_DIGEST, type BlobStore, type ByteRange } from './blob-store.js';
import { blobUnknown, digestInvalid, nameUnknown, RegistryError } from './errors.js';
import type { RegistryImages } from './images.js';
import { MAX_MANIFEST_BYTES, MEDIA_TYPES } from './manifests.js';
import { basicPassword, type RegistryTokens, type TokenClaims } from './tokens.js';
import type { Uploads } from './uploads.js';

export interface RegistryScope {
  accountId: string;
  region: string;
}

/** How the registry finds repositories (owned by the ECR service module). */
export interface RepositoryLookup {
  find(scope: RegistryScope, name: string): Promise<EcrRepositoryDoc | undefined>;
  /** Repository names of the scope, sorted. */
  names(scope: RegistryScope): Promise<string[]>;
  /** Creates a repository on first push; undefined when create-on-push is off. */
  createForPush?(scope: RegistryScope, name: string): Promise<EcrRepositoryDoc>;
}

export interface RegistryRouteDeps {
  tokens: RegistryTokens;
  images: RegistryImages;
  blobs: BlobStore;
  uploads: Uploads;
  repositories: RepositoryLookup;
  clock: Clock;
  /** host:port clients use for this registry (the realm in WWW-Authenticate). */
  registryHost: () => string;
  /** https when the port serves TLS. */
  registryScheme?: 'http' | 'https';
  log: { error(obj: object, msg: string): void };
  /**
   * Asked before each request with the ECR action it amounts to and the repository's ARN
   * (`repository/*` for the catalog); throws RegistryError DENIED. Absent: everything allowed.
   */
  authorize?(claims: TokenClaims, action: string, repositoryArn: string, sourceIp: string | undefined): Promise<void>;
}

/** The ECR IAM action each registry request is, as ECR authorizes docker push and pull. */
export const REGISTRY_ACTIONS: Readonly<Record<string, string>> = {
  'catalog GET': 'ecr:DescribeRepositories',
  'tags GET': 'ecr:ListImages',
  'manifest GET': 'ecr:BatchGetImage',
  'manifest HEAD': 'ecr:BatchGetImage',
  'manifest PUT': 'ecr:PutImage',
  'manifest DELETE': 'ecr:BatchDeleteImage',
  'blob GET': 'ecr:GetDownloadUrlForLayer',
  'blob HEAD': 'ecr:BatchCheckLayerAvailability',
  'blob DELETE': 'ecr:BatchDeleteImage',
  'uploads POST': 'ecr:InitiateLayerUpload',
  'upload GET': 'ecr:UploadLayerPart',
  'upload PATCH': 'ecr:UploadLayerPart',
  'upload PUT': 'ecr:CompleteLayerUpload',
  'upload DELETE': 'ecr:UploadLayerPart',
  'referrers GET': 'ecr:ListImageReferrers',
};

const repositoryArnOf = (scope: RegistryScope, name: string) => `arn:aws:ecr:${scope.region}:${scope.accountId}:repository/${name}`;

/** Query parameter GetDownloadUrlForLayer puts in its URL instead of an Authorization header. */
export const DOWNLOAD_TOKEN_PARAM = 'X-Dockyard-Token';

const NAME = '(?<name>[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*)';
const ROUTES: readonly [kind: string, pattern: RegExp][] = [
  ['base', /^\/v2\/?$/],
  ['catalog', /^\/v2\/_catalog$/],
  ['tags', new RegExp(`^/v2/${NAME}/tags/list$`)],
  ['manifest', new RegExp(`^/v2/${NAME}/manifests/(?<ref>[^/]+)$`)],
  ['uploads', new RegExp(`^/v2/${NAME}/blobs/uploads/?$`)],
  ['upload', new RegExp(`^/v2/${NAME}/blobs/uploads/(?<uuid>[^/]+)$`)],
  ['blob', new RegExp(`^/v2/${NAME}/blobs/(?<digest>[^/]+)$`)],
  ['referrers', new RegExp(`^/v2/${NAME}/referrers/(?<digest>[^/]+)$`)],
];

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  scope: TokenClaims;
  name: string;
  params: Record<string, string>;
}

export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryRouteDeps): void {
  void app.register(async (scoped) => {
    // Bodies stay unread streams: uploads pipe request.raw to disk themselves.
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const handler = (req: FastifyRequest, reply: FastifyReply) => handle(deps, req, reply);
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
    scoped.route({ method: [...methods], url: '/v2', handler, exposeHeadRoute: false });
    scoped.route({ method: [...methods], url: '/v2/*', handler, exposeHeadRoute: false });
  });
}

async function handle(deps: RegistryRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.hijack();
  const req = request.raw;
  const res = reply.raw;
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  try {
    const url = new URL(req.url ?? '/', 'http://registry');
    let kind = '';
    let params: Record<string, string> = {};
    for (const [k, pattern] of ROUTES) {
      const m = pattern.exec(url.pathname);
      if (m) {
        kind = k;
        params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([key, v]) => [key, decodeURIComponent(v)]));
        break;
      }
    }
    const scope = authenticate(deps, req, url, kind, params);
    if (!scope) {
      res.setHeader('WWW-Authenticate', `Basic realm="${deps.registryScheme ?? 'http'}://${deps.registryHost()}/",service="ecr.amazonaws.com"`);
      throw new RegistryError('UNAUTHORIZED', 'authentication required', null);
    }
    if (!kind) {
      const looksNamed = /^\/v2\/.+\/(manifests|blobs|tags|referrers)\//.test(url.pathname);
      throw looksNamed ? new RegistryError('NAME_INVALID', 'invalid repository name') : new RegistryError('UNSUPPORTED', 'unknown endpoint');
    }
    const call: Call = { req, res, url, scope, name: params.name ?? '', params };
    const method = req.method ?? 'GET';
    const action = REGISTRY_ACTIONS[`${kind} ${method}`];
    if (action && deps.authorize) await deps.authorize(scope, action, repositoryArnOf(scope, call.name || '*'), request.ip);
    switch (`${kind} ${method}`) {
      case 'base GET':
      case 'base HEAD':
        return send(res, 200, { 'Content-Type': 'application/json' }, '{}');
      case 'catalog GET':
        return await catalog(deps, call);
      case 'tags GET':
        return await tagsList(deps, call);
      case 'manifest GET':
      case 'manifest HEAD':
        return await getManifest(deps, call, method === 'HEAD');
      case 'manifest PUT':
        return await putManifest(deps, call);
      case 'manifest DELETE':
        return await deleteManifest(deps, call);
      case 'blob GET':
      case 'blob HEAD':
        return await getBlob(deps, call, method === 'HEAD');
      case 'blob DELETE':
        return await deleteBlob(deps, call);
      case 'uploads POST':
        return await startUpload(deps, call);
      case 'upload GET':
        return await uploadStatus(deps, call);
      case 'upload PATCH':
        return await patchUpload(deps, call);
      case 'upload PUT':
        return await finishUpload(deps, call);
      case 'upload DELETE':
        return await cancelUpload(deps, call);
      case 'referrers GET':
        return await referrers(deps, call);
      default:
        throw new RegistryError('UNSUPPORTED', `${method} is not supported here`);
    }
  } catch (e) {
    sendError(deps, res, e);
  }
}

function authenticate(deps: RegistryRouteDeps, req: IncomingMessage, url: URL, kind: string, params: Record<string, string>): TokenClaims | undefined {
  const now = deps.clock.now();
  const password = basicPassword(req.headers.authorization);
  if (password) return deps.tokens.verify(password, now);
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return deps.tokens.verify(bearer, now);
  // A GetDownloadUrlForLayer URL reads the one blob it was made for, nothing else.
  const param = url.searchParams.get(DOWNLOAD_TOKEN_PARAM);
  if (param && kind === 'blob' && (req.method === 'GET' || req.method === 'HEAD')) return deps.tokens.verifyLayerDownload(param, params.name ?? '', params.digest ?? '', now);
  return undefined;
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
  const payload = body ?? '';
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

function sendError(deps: RegistryRouteDeps, res: ServerResponse, e: unknown): void {
  let error: RegistryError;
  if (e instanceof RegistryError) error = e;
  else if (isClientGone(e)) {
    res.destroy();
    return;
  } else {
    deps.log.error({ err: e }, 'registry request failed');
    error = new RegistryError('UNKNOWN', 'unknown error');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, error.status, { 'Content-Type': 'application/json' }, error.body());
}

function isClientGone(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ECONNABORTED' || (e as Error)?.message === 'aborted';
}

async function repository(deps: RegistryRouteDeps, call: Call, forPush = false): Promise<EcrRepositoryDoc> {
  const found = await deps.repositories.find(call.scope, call.name);
  if (found) return found;
  if (forPush && deps.repositories.createForPush) return deps.repositories.createForPush(call.scope, call.name);
  throw nameUnknown(call.name, call.scope.accountId);
}

/** `n` and `last` pagination with a Link header, shared by the catalog and tag lists. */
function paginateNames(call: Call, all: string[], path: string): { items: string[]; link?: string } {
  const nParam = call.url.searchParams.get('n');
  const last = call.url.searchParams.get('last');
  let items = last ? all.filter((x) => x > last) : all;
  if (nParam !== null) {
    const n = Number(nParam);
    if (!Number.isInteger(n) || n < 0) throw new RegistryError('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n: nParam });
    if (items.length > n) {
      items = items.slice(0, n);
      const next = items[items.length - 1];
      if (next !== undefined) return { items, link: `<${path}?n=${n}&last=${encodeURIComponent(next)}>; rel="next"` };
    }
  }
  return { items };
}

async function catalog(deps: RegistryRouteDeps, call: Call) {
  const page = paginateNames(call, await deps.repositories.names(call.scope), '/v2/_catalog');
  send(call.res, 200, { 'Content-Type': 'application/json', ...(page.link ? { Link: page.link } : {}) }, JSON.stringify({ repositories: page.items }));
}

async function tagsList(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call);
  const page = paginateNames(call, await deps.images.listTags(repo.repositoryArn), `/v2/${call.name}/tags/list`);
  send(call.res, 200, { 'Content-Type': 'application/json', ...(page.link ? { Link: page.link } : {}) }, JSON.stringify({ name: call.name, tags: page.items }));
}

async function getManifest(deps: RegistryRouteDeps, call: Call, head: boolean) {
  const repo = await repository(deps, call);
  const image = await deps.images.getManifest(repo.repositoryArn, call.params.ref!);
  const headers = { 'Content-Type': image.mediaType, 'Docker-Content-Digest': image.digest, ETag: `"${image.digest}"` };
  if (head) {
    call.res.writeHead(200, { ...headers, 'Content-Length': image.manifestSize });
    call.res.end();
    return;
  }
  await deps.images.recordPull(image).catch((err: unknown) => deps.log.error({ err }, 'recording a pull failed'));
  send(call.res, 200, headers, Buffer.from(image.manifest, 'utf8'));
}

async function putManifest(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call, true);
  const body = await readLimited(call, MAX_MANIFEST_BYTES);
  const result = await deps.images.putManifest(repo, call.params.ref!, body, call.req.headers['content-type']);
  send(call.res, 201, {
    Location: `/v2/${call.name}/manifests/${result.digest}`,
    'Docker-Content-Digest': result.digest,
    ...(result.image.subject ? { 'OCI-Subject': result.image.subject } : {}),
  });
}

async function deleteManifest(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call);
  await deps.images.deleteManifest(repo.repositoryArn, call.params.ref!);
  send(call.res, 202, {});
}

function parseRange(header: string | undefined, size: number): ByteRange | undefined | 'invalid' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    // Suffix range: the last N bytes.
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

function checkDigest(digest: string): void {
  if (!ANY_DIGEST.test(digest)) throw digestInvalid(`invalid digest ${digest}`, digest);
}

async function getBlob(deps: RegistryRouteDeps, call: Call, head: boolean) {
  const digest = call.params.digest!;
  checkDigest(digest);
  const repo = await repository(deps, call);
  const info = await deps.images.linkedBlob(repo.repositoryArn, digest);
  if (!info) throw blobUnknown(digest);
  const range = parseRange(call.req.headers.range, info.size);
  const base = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  if (range === 'invalid') {
    send(call.res, 416, { 'Content-Range': `bytes */${info.size}`, 'Content-Type': 'application/json' }, new RegistryError('RANGE_INVALID', 'invalid range').body());
    return;
  }
  const status = range ? 206 : 200;
  const length = range ? range.end - range.start + 1 : info.size;
  const headers = { ...base, 'Content-Length': length, ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${info.size}` } : {}) };
  if (head) {
    // A push that finds the blob present will reference it soon: refresh its GC grace period.
    await deps.blobs.touch(digest);
    call.res.writeHead(status, headers);
    call.res.end();
    return;
  }
  const stream = await deps.blobs.open(digest, range);
  if (!stream) throw blobUnknown(digest);
  call.res.writeHead(status, headers);
  await pipeline(stream, call.res);
}

async function deleteBlob(deps: RegistryRouteDeps, call: Call) {
  const digest = call.params.digest!;
  checkDigest(digest);
  const repo = await repository(deps, call);
  // Unlinks it from this repository; the garbage collector removes the bytes once unreferenced.
  if (!(await deps.images.unlinkBlob(repo.repositoryArn, digest))) throw blobUnknown(digest);
  send(call.res, 202, { 'Docker-Content-Digest': digest });
}

function uploadHeaders(call: Call, id: string, size: number) {
  return {
    Location: `/v2/${call.name}/blobs/uploads/${id}`,
    Range: `0-${Math.max(0, size - 1)}`,
    'Docker-Upload-UUID': id,
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? Number(length) > 0 : req.headers['transfer-encoding'] !== undefined;
}

function contentLength(req: IncomingMessage): number | undefined {
  const length = req.headers['content-length'];
  return length === undefined ? undefined : Number(length);
}

async function blobCreated(deps: RegistryRouteDeps, call: Call, repo: EcrRepositoryDoc, digest: string, size: number) {
  await deps.images.linkBlob(repo.repositoryArn, { digest, size, modifiedAt: Date.now() });
  send(call.res, 201, { Location: `/v2/${call.name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

async function startUpload(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call, true);
  const q = call.url.searchParams;
  const mount = q.get('mount');
  const from = q.get('from');
  if (mount && from && SHA256_DIGEST.test(mount) && (await mayRead(deps, call, from))) {
    const source = await deps.repositories.find(call.scope, from);
    const info = source && (await deps.images.linkedBlob(source.repositoryArn, mount));
    if (info) {
      await deps.blobs.touch(mount);
      return blobCreated(deps, call, repo, mount, info.size);
    }
    // Not mountable: fall through to an ordinary upload, as the spec says.
  }
  const digest = q.get('digest');
  const upload = await deps.uploads.create(repo.repositoryArn);
  if (digest !== null) {
    // Monolithic upload: the whole blob in this request.
    await deps.uploads.append(upload.id, repo.repositoryArn, call.req, { length: contentLength(call.req) });
    const info = await deps.uploads.complete(upload.id, repo.repositoryArn, digest);
    return blobCreated(deps, call, repo, digest, info.size);
  }
  if (hasBody(call.req)) await deps.uploads.append(upload.id, repo.repositoryArn, call.req, { length: contentLength(call.req) });
  const size = hasBody(call.req) ? (await deps.uploads.get(upload.id, repo.repositoryArn)).size : 0;
  send(call.res, 202, uploadHeaders(call, upload.id, size));
}

/** A cross-repository mount reads the source repository: without that right it is an ordinary upload. */
async function mayRead(deps: RegistryRouteDeps, call: Call, name: string): Promise<boolean> {
  try {
    await deps.authorize?.(call.scope, 'ecr:GetDownloadUrlForLayer', repositoryArnOf(call.scope, name), call.req.socket.remoteAddress);
    return true;
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'DENIED') return false;
    throw e;
  }
}

async function uploadStatus(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call);
  const upload = await deps.uploads.get(call.params.uuid!, repo.repositoryArn);
  send(call.res, 204, uploadHeaders(call, upload.id, upload.size));
}

function contentRangeStart(req: IncomingMessage): number | undefined {
  const header = req.headers['content-range'];
  if (!header) return undefined;
  const m = /^(?:bytes )?(\d+)-(\d+)$/.exec(header.trim());
  if (!m) throw new RegistryError('RANGE_INVALID', `invalid Content-Range ${header}`);
  return Number(m[1]);
}

async function patchUpload(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call);
  const id = call.params.uuid!;
  let size: number;
  try {
    size = await deps.uploads.append(id, repo.repositoryArn, call.req, { start: contentRangeStart(call.req), length: contentLength(call.req) });
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'RANGE_INVALID') {
      const current = await deps.uploads.get(id, repo.repositoryArn);
      call.res.setHeader('Range', `0-${Math.max(0, current.size - 1)}`);
      call.res.setHeader('Location', `/v2/${call.name}/blobs/uploads/${id}`);
    }
    throw e;
  }
  send(call.res, 202, uploadHeaders(call, id, size));
}

async function finishUpload(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call);
  const id = call.params.uuid!;
  const digest = call.url.searchParams.get('digest');
  if (!digest) throw digestInvalid('digest query parameter is required');
  if (hasBody(call.req)) {
    await deps.uploads.append(id, repo.repositoryArn, call.req, { start: contentRangeStart(call.req), length: contentLength(call.req) });
  }
  const info = await deps.uploads.complete(id, repo.repositoryArn, digest);
  await blobCreated(deps, call, repo, digest, info.size);
}

async function cancelUpload(deps: RegistryRouteDeps, call: Call) {
  const repo = await repository(deps, call);
  await deps.uploads.cancel(call.params.uuid!, repo.repositoryArn);
  send(call.res, 204, {});
}

async function referrers(deps: RegistryRouteDeps, call: Call) {
  const digest = call.params.digest!;
  checkDigest(digest);
  const repo = await repository(deps, call);
  const artifactType = call.url.searchParams.get('artifactType') ?? undefined;
  const manifests = await deps.images.referrers(repo.repositoryArn, digest, artifactType);
  const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests });
  send(call.res, 200, { 'Content-Type': MEDIA_TYPES.ociIndex, ...(artifactType ? { 'OCI-Filters-Applied': 'artifactType' } : {}) }, body);
}

/**
 * Reads a request body of at most `limit` bytes. A larger one is refused without reading the
 * rest: the answer carries `Connection: close` and the connection is closed once it is sent,
 * so a client still sending does not keep the connection (and the server) busy.
 */
async function readLimited(call: Call, limit: number): Promise<Buffer> {
  const tooLarge = () => {
    closeAfterResponse(call);
    return new RegistryError('SIZE_INVALID', `manifest is larger than ${limit} bytes`);
  };
  const declared = contentLength(call.req);
  if (declared !== undefined && declared > limit) throw tooLarge();
  // Events rather than for-await: leaving a for-await early would destroy the socket before the answer.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= limit) return void chunks.push(chunk);
      call.req.pause();
      call.req.off('data', onData);
      reject(tooLarge());
    };
    call.req.on('data', onData);
    call.req.once('end', () => resolve(Buffer.concat(chunks)));
    call.req.once('error', reject);
  });
}

/** Ends the connection after the response: FIN once it is flushed (so the client reads it), then destroy. */
function closeAfterResponse(call: Call): void {
  call.res.setHeader('Connection', 'close');
  call.res.once('finish', () => {
    const socket = call.req.socket;
    call.req.unpipe();
    // Drain what is already in flight so the close is a FIN, not a reset that could drop the answer.
    call.req.resume();
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}
