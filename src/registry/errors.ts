/**
 * OCI Distribution error codes with their HTTP statuses. The body is the spec's
 * `{"errors":[{"code","message","detail"}]}`; docker prints `<code in words>: <message>`.
 */
export const REGISTRY_ERRORS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  PAGINATION_NUMBER_INVALID: 400,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  RANGE_INVALID: 416,
  TOOMANYREQUESTS: 429,
  /** Distribution's catch-all for server-side failures (details are logged, not returned). */
  UNKNOWN: 500,
} as const;

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS;

export class RegistryError extends Error {
  readonly status: number;
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
    this.status = REGISTRY_ERRORS[code];
  }

  body(): string {
    return JSON.stringify({ errors: [{ code: this.code, message: this.message, detail: this.detail ?? {} }] });
  }
}

export const nameUnknown = (name: string, registryId: string) =>
  new RegistryError('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`, { name });
export const blobUnknown = (digest: string) => new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
export const manifestUnknown = (reference: string) =>
  new RegistryError('MANIFEST_UNKNOWN', `Requested image not found`, { reference });
export const uploadUnknown = (uuid: string) => new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid });
export const digestInvalid = (message: string, digest?: string) =>
  new RegistryError('DIGEST_INVALID', message, digest ? { digest } : undefined);
