/**
 * The IAM policy grammar, checked when a policy is stored (IAM rejects a bad document with
 * MalformedPolicyDocument, in IAM's wording): identity policies (managed, inline) must not name
 * a Principal and must name resources; trust policies (a role's AssumeRolePolicyDocument) must
 * name a Principal and must not name resources.
 */
import { malformedPolicy } from './errors.js';

export type PolicyKind = 'identity' | 'trust';

const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const ACTION = /^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$/;
const syntax = () => malformedPolicy('Syntax errors in policy.');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringOrStrings = (v: unknown): v is string | string[] => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
const asList = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/** Throws MalformedPolicyDocument when `text` is not a valid policy of `kind`. */
export function checkPolicyDocument(text: string, kind: PolicyKind): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformedPolicy('This policy contains invalid Json');
  }
  if (!isObject(doc)) throw syntax();
  for (const key of Object.keys(doc)) if (!TOP_LEVEL.has(key)) throw syntax();
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    throw malformedPolicy('The policy must contain a valid version string');
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw syntax();
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
  if (statements.length === 0) throw malformedPolicy('Missing required field Statement');
  const sids = new Set<string>();
  for (const statement of statements) {
    checkStatement(statement, kind);
    const sid = (statement as Record<string, unknown>).Sid;
    if (typeof sid === 'string' && sid !== '') {
      if (sids.has(sid)) throw malformedPolicy('Statement IDs (SID) in a single policy must be unique.');
      sids.add(sid);
    }
  }
}

function checkStatement(statement: unknown, kind: PolicyKind): void {
  if (!isObject(statement)) throw syntax();
  for (const key of Object.keys(statement)) if (!STATEMENT_KEYS.has(key)) throw syntax();
  if (statement.Sid !== undefined && (typeof statement.Sid !== 'string' || !/^[A-Za-z0-9]*$/.test(statement.Sid))) {
    throw malformedPolicy('Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
  }
  if (statement.Effect === undefined) throw malformedPolicy('Missing required field Effect');
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw malformedPolicy(`Invalid effect: ${String(statement.Effect)}`);

  const actions = statement.Action ?? statement.NotAction;
  if (statement.Action !== undefined && statement.NotAction !== undefined) throw syntax();
  if (actions === undefined) throw malformedPolicy('Policy statement must contain actions.');
  if (!isStringOrStrings(actions)) throw syntax();
  for (const action of asList(actions)) {
    if (!ACTION.test(action)) throw malformedPolicy('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
  }

  const resources = statement.Resource ?? statement.NotResource;
  if (statement.Resource !== undefined && statement.NotResource !== undefined) throw syntax();
  if (kind === 'trust') {
    if (resources !== undefined) throw malformedPolicy(`Has prohibited field ${statement.Resource !== undefined ? 'Resource' : 'NotResource'}`);
  } else {
    if (resources === undefined) throw malformedPolicy('Policy statement must contain resources.');
    if (!isStringOrStrings(resources)) throw syntax();
    for (const resource of asList(resources)) {
      if (resource !== '*' && !resource.startsWith('arn:')) throw malformedPolicy(`Resource ${resource} must be in ARN format or "*".`);
    }
  }

  const principal = statement.Principal ?? statement.NotPrincipal;
  if (statement.Principal !== undefined && statement.NotPrincipal !== undefined) throw syntax();
  if (kind === 'identity') {
    if (principal !== undefined) throw malformedPolicy('Policy document should not specify a principal.');
  } else {
    if (principal === undefined) throw malformedPolicy('Missing required field Principal');
    checkPrincipal(principal);
  }

  if (statement.Condition !== undefined) checkCondition(statement.Condition);
}

function checkPrincipal(principal: unknown): void {
  if (principal === '*') return;
  if (!isObject(principal) || Object.keys(principal).length === 0) throw malformedPolicy('Invalid principal in policy');
  for (const [type, value] of Object.entries(principal)) {
    if (!PRINCIPAL_TYPES.has(type)) throw malformedPolicy(`Invalid principal in policy: "${type}"`);
    if (!isStringOrStrings(value)) throw malformedPolicy('Invalid principal in policy');
    for (const v of asList(value)) {
      const valid =
        type === 'AWS' ? v === '*' || /^[0-9]{12}$/.test(v) || /^arn:aws:(iam|sts)::[0-9]{12}:/.test(v) : type === 'Service' ? /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(v) : v.length > 0;
      if (!valid) throw malformedPolicy(`Invalid principal in policy: "${type}":"${v}"`);
    }
  }
}

function checkCondition(condition: unknown): void {
  if (!isObject(condition)) throw syntax();
  for (const [operator, block] of Object.entries(condition)) {
    if (!/^[A-Za-z]+(:[A-Za-z]+)?$/.test(operator) || !isObject(block)) throw syntax();
    for (const [key, value] of Object.entries(block)) {
      if (!/^[a-zA-Z0-9-]+:[^\s]+$/.test(key)) throw malformedPolicy('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
      const ok = ['string', 'number', 'boolean'].includes(typeof value) || (Array.isArray(value) && value.every((x) => ['string', 'number', 'boolean'].includes(typeof x)));
      if (!ok) throw syntax();
    }
  }
}

/** IAM answers policy documents URL-encoded (RFC 3986); the AWS CLI and boto3 decode them. */
export const encodePolicyDocument = (text: string) => encodeURIComponent(text);

/** A document's size as IAM counts it (whitespace excluded). */
export const policySize = (text: string) => text.replace(/\s/g, '').length;
