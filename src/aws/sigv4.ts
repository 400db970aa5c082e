/**
 * SigV4 credential scope, read from the Authorization header (or X-Amz-Credential for
 * presigned requests). Every AWS client signs; Dockyard uses the scope's region today and
 * will verify signatures when IAM arrives.
 */
export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

const AUTH = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

export function parseCredentialScope(authorization: string | undefined, presignedCredential?: string): CredentialScope | undefined {
  const text = authorization ?? (presignedCredential ? `Credential=${presignedCredential}` : undefined);
  const m = text ? AUTH.exec(text) : null;
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! };
}
