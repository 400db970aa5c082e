/**
 * The attributes of load balancers, target groups and listeners: AWS's keys with the defaults an
 * application load balancer reports, and the values each accepts. Unknown keys and bad values are
 * ValidationErrors, as ELBv2 answers them.
 */
import type { Collection, Store } from '../../store/store.js';
import type { ElbResourceType, Scope } from './arns.js';
import { getOwn } from './common.js';
import { validationError } from './errors.js';

type Check = (value: string) => boolean;

const bool: Check = (v) => v === 'true' || v === 'false';
const intIn = (min: number, max: number): Check => (v) => /^[0-9]{1,10}$/.test(v) && Number(v) >= min && Number(v) <= max;
const oneOf = (...values: string[]): Check => (v) => values.includes(v);
const anyText: Check = (v) => v.length <= 1024;
const bucketName: Check = (v) => v === '' || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v);
const headerName: Check = (v) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/.test(v);

interface Spec {
  default: string;
  check: Check;
}

const LOAD_BALANCER: Record<string, Spec> = {
  'access_logs.s3.enabled': { default: 'false', check: bool },
  'access_logs.s3.bucket': { default: '', check: bucketName },
  'access_logs.s3.prefix': { default: '', check: anyText },
  'connection_logs.s3.enabled': { default: 'false', check: bool },
  'connection_logs.s3.bucket': { default: '', check: bucketName },
  'connection_logs.s3.prefix': { default: '', check: anyText },
  'health_check_logs.s3.enabled': { default: 'false', check: bool },
  'health_check_logs.s3.bucket': { default: '', check: bucketName },
  'health_check_logs.s3.prefix': { default: '', check: anyText },
  'deletion_protection.enabled': { default: 'false', check: bool },
  'idle_timeout.timeout_seconds': { default: '60', check: intIn(1, 4000) },
  'client_keep_alive.seconds': { default: '3600', check: intIn(60, 604800) },
  'routing.http.desync_mitigation_mode': { default: 'defensive', check: oneOf('monitor', 'defensive', 'strictest') },
  'routing.http.drop_invalid_header_fields.enabled': { default: 'false', check: bool },
  'routing.http.preserve_host_header.enabled': { default: 'false', check: bool },
  'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': { default: 'false', check: bool },
  'routing.http.xff_client_port.enabled': { default: 'false', check: bool },
  'routing.http.xff_header_processing.mode': { default: 'append', check: oneOf('append', 'preserve', 'remove') },
  'routing.http2.enabled': { default: 'true', check: bool },
  'waf.fail_open.enabled': { default: 'false', check: bool },
  'zonal_shift.config.enabled': { default: 'false', check: bool },
  'load_balancing.cross_zone.enabled': { default: 'true', check: (v) => v === 'true' },
};

const TARGET_GROUP: Record<string, Spec> = {
  'deregistration_delay.timeout_seconds': { default: '300', check: intIn(0, 3600) },
  'stickiness.enabled': { default: 'false', check: bool },
  'stickiness.type': { default: 'lb_cookie', check: oneOf('lb_cookie', 'app_cookie') },
  'stickiness.lb_cookie.duration_seconds': { default: '86400', check: intIn(1, 604800) },
  'stickiness.app_cookie.cookie_name': { default: '', check: (v) => v === '' || (headerName(v) && !/^AWSALB/i.test(v)) },
  'stickiness.app_cookie.duration_seconds': { default: '86400', check: intIn(1, 604800) },
  'load_balancing.algorithm.type': { default: 'round_robin', check: oneOf('round_robin', 'least_outstanding_requests', 'weighted_random') },
  'load_balancing.algorithm.anomaly_mitigation': { default: 'off', check: oneOf('on', 'off') },
  'load_balancing.cross_zone.enabled': { default: 'use_load_balancer_configuration', check: oneOf('true', 'false', 'use_load_balancer_configuration') },
  'slow_start.duration_seconds': { default: '0', check: (v) => v === '0' || intIn(30, 900)(v) },
  'target_group_health.dns_failover.minimum_healthy_targets.count': { default: '1', check: (v) => v === 'off' || intIn(1, 1000)(v) },
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': { default: 'off', check: (v) => v === 'off' || intIn(1, 100)(v) },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': { default: '1', check: intIn(1, 1000) },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': { default: 'off', check: (v) => v === 'off' || intIn(1, 100)(v) },
};

const LISTENER: Record<string, Spec> = {
  'routing.http.response.server.enabled': { default: 'true', check: bool },
  'routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name': { default: 'X-Amzn-Mtls-Clientcert-Serial-Number', check: headerName },
  'routing.http.request.x_amzn_mtls_clientcert_issuer.header_name': { default: 'X-Amzn-Mtls-Clientcert-Issuer', check: headerName },
  'routing.http.request.x_amzn_mtls_clientcert_subject.header_name': { default: 'X-Amzn-Mtls-Clientcert-Subject', check: headerName },
  'routing.http.request.x_amzn_mtls_clientcert_validity.header_name': { default: 'X-Amzn-Mtls-Clientcert-Validity', check: headerName },
  'routing.http.request.x_amzn_mtls_clientcert_leaf.header_name': { default: 'X-Amzn-Mtls-Clientcert-Leaf', check: headerName },
  'routing.http.request.x_amzn_mtls_clientcert.header_name': { default: 'X-Amzn-Mtls-Clientcert', check: headerName },
  'routing.http.request.x_amzn_tls_version.header_name': { default: 'X-Amzn-Tls-Version', check: headerName },
  'routing.http.request.x_amzn_tls_cipher_suite.header_name': { default: 'X-Amzn-Tls-Cipher-Suite', check: headerName },
  'routing.http.response.access_control_allow_origin.header_value': { default: '', check: anyText },
  'routing.http.response.access_control_allow_methods.header_value': { default: '', check: anyText },
  'routing.http.response.access_control_allow_headers.header_value': { default: '', check: anyText },
  'routing.http.response.access_control_allow_credentials.header_value': { default: '', check: (v) => v === '' || v === 'true' },
  'routing.http.response.access_control_expose_headers.header_value': { default: '', check: anyText },
  'routing.http.response.access_control_max_age.header_value': { default: '', check: (v) => v === '' || intIn(0, 86400)(v) },
  'routing.http.response.content_security_policy.header_value': { default: '', check: anyText },
  'routing.http.response.strict_transport_security.header_value': { default: '', check: anyText },
  'routing.http.response.x_content_type_options.header_value': { default: '', check: (v) => v === '' || v === 'nosniff' },
  'routing.http.response.x_frame_options.header_value': { default: '', check: (v) => v === '' || /^(DENY|SAMEORIGIN|ALLOW-FROM .{1,512})$/.test(v) },
  'tcp.idle_timeout.seconds': { default: '350', check: intIn(60, 6000) },
};

export type AttributeKind = 'load balancer' | 'target group' | 'listener';
const SPECS: Record<AttributeKind, Record<string, Spec>> = { 'load balancer': LOAD_BALANCER, 'target group': TARGET_GROUP, listener: LISTENER };

/** Listener attributes an HTTP/HTTPS listener shows (the rest belong to other listener types). */
const LISTENER_SHOWN = (key: string) => key.startsWith('routing.http.response.server') || (key.startsWith('routing.http.') && !key.includes('mtls') && !key.includes('x_amzn_tls'));

export function defaultAttributes(kind: AttributeKind): Record<string, string> {
  const specs = SPECS[kind];
  return Object.fromEntries(Object.entries(specs).filter(([k]) => kind !== 'listener' || LISTENER_SHOWN(k)).map(([k, s]) => [k, s.default]));
}

/** `current` with the pairs applied, or a ValidationError naming the first bad key or value. */
export function applyAttributes(kind: AttributeKind, current: Record<string, string>, pairs: readonly { Key?: string; Value?: string }[]): Record<string, string> {
  const specs = SPECS[kind];
  const next = { ...current };
  if (pairs.length === 0) throw validationError('At least one attribute must be specified');
  if (pairs.length > 30) throw validationError('A maximum of 30 attributes can be specified');
  for (const { Key: key, Value: value } of pairs) {
    if (key === undefined || !Object.hasOwn(specs, key)) throw validationError(`The ${kind} attribute key '${key ?? ''}' is not recognized`);
    const v = value ?? '';
    if (!specs[key]!.check(v)) throw validationError(`The value of ${kind} attribute '${key}' is not valid: '${v.length > 64 ? `${v.slice(0, 64)}...` : v}'`);
    next[key] = v;
  }
  return next;
}

export const asPairs = (attributes: Record<string, string>) => Object.entries(attributes).map(([Key, Value]) => ({ Key, Value }));

/** Where one kind of resource keeps its attributes, for the Describe/Modify*Attributes pairs. */
export interface AttributeHolder<T extends { attributes: Record<string, string> }> {
  collection: Collection<T>;
  type: ElbResourceType;
  kind: AttributeKind;
  notFound: () => Error;
}

export async function describeAttributes<T extends { attributes: Record<string, string> }>(store: Store, h: AttributeHolder<T>, scope: Scope, arn: string) {
  const row = await store.read((tx) => getOwn(tx, h.collection, arn, h.type, scope, h.notFound));
  return { Attributes: asPairs(row.data.attributes) };
}

export function modifyAttributes<T extends { attributes: Record<string, string> }>(store: Store, h: AttributeHolder<T>, scope: Scope, arn: string, pairs: { Key?: string; Value?: string }[]) {
  return store.write(async (tx) => {
    const row = await getOwn(tx, h.collection, arn, h.type, scope, h.notFound);
    const attributes = applyAttributes(h.kind, row.data.attributes, pairs);
    await tx.update(h.collection, row, { ...row.data, attributes });
    return { Attributes: asPairs(attributes) };
  });
}
