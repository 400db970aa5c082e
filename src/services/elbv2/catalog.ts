/** What ELBv2 answers from fixed tables: account limits (also enforced) and the predefined SSL policies. */
export const LIMITS = {
  'application-load-balancers': 50,
  'target-groups': 3000,
  'targets-per-application-load-balancer': 1000,
  'listeners-per-application-load-balancer': 50,
  'rules-per-application-load-balancer': 100,
  'target-groups-per-application-load-balancer': 100,
  'target-groups-per-action-on-application-load-balancer': 5,
  'certificates-per-application-load-balancer': 25,
  'condition-values-per-alb-rule': 5,
  'condition-wildcards-per-alb-rule': 5,
  'network-load-balancers': 50,
  'targets-per-network-load-balancer': 3000,
  'listeners-per-network-load-balancer': 50,
  'gateway-load-balancers': 100,
} as const;

const TLS12_CIPHERS = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-RSA-AES256-SHA384', 'AES128-GCM-SHA256', 'AES128-SHA256', 'AES256-GCM-SHA384', 'AES256-SHA256'];
const LEGACY_CIPHERS = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA', 'AES128-SHA', 'AES256-SHA'];
const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

export interface SslPolicyEntry {
  name: string;
  protocols: string[];
  ciphers: string[];
  /** Node's tls minVersion for listeners using it. */
  minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';
}

const policy = (name: string, protocols: string[], ciphers: string[]): SslPolicyEntry => ({
  name,
  protocols,
  ciphers,
  minVersion: protocols.includes('TLSv1') ? 'TLSv1' : protocols.includes('TLSv1.1') ? 'TLSv1.1' : 'TLSv1.2',
});

export const SSL_POLICIES: readonly SslPolicyEntry[] = [
  policy('ELBSecurityPolicy-2016-08', ['TLSv1', 'TLSv1.1', 'TLSv1.2'], [...TLS12_CIPHERS, ...LEGACY_CIPHERS]),
  policy('ELBSecurityPolicy-TLS13-1-2-2021-06', ['TLSv1.2', 'TLSv1.3'], [...TLS13_CIPHERS, ...TLS12_CIPHERS, ...LEGACY_CIPHERS]),
  policy('ELBSecurityPolicy-TLS13-1-2-Res-2021-06', ['TLSv1.2', 'TLSv1.3'], [...TLS13_CIPHERS, ...TLS12_CIPHERS.slice(0, 8)]),
  policy('ELBSecurityPolicy-TLS13-1-3-2021-06', ['TLSv1.3'], TLS13_CIPHERS),
  policy('ELBSecurityPolicy-TLS-1-2-2017-01', ['TLSv1.2'], TLS12_CIPHERS),
  policy('ELBSecurityPolicy-TLS-1-2-Ext-2018-06', ['TLSv1.2'], [...TLS12_CIPHERS, ...LEGACY_CIPHERS]),
  policy('ELBSecurityPolicy-FS-1-2-Res-2020-10', ['TLSv1.2'], TLS12_CIPHERS.slice(0, 8)),
  policy('ELBSecurityPolicy-TLS-1-1-2017-01', ['TLSv1.1', 'TLSv1.2'], [...TLS12_CIPHERS, ...LEGACY_CIPHERS]),
  policy('ELBSecurityPolicy-2015-05', ['TLSv1', 'TLSv1.1', 'TLSv1.2'], [...TLS12_CIPHERS, ...LEGACY_CIPHERS]),
];

export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-2016-08';

export const sslPolicyNamed = (name: string) => SSL_POLICIES.find((p) => p.name === name);

/** DescribeSSLPolicies' shape for one policy. */
export const describeSslPolicy = (p: SslPolicyEntry) => ({
  Name: p.name,
  SslProtocols: p.protocols,
  Ciphers: p.ciphers.map((Name, i) => ({ Name, Priority: i + 1 })),
  SupportedLoadBalancerTypes: ['application', 'network'],
});
