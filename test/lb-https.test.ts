/**
 * HTTPS listeners with a certificate imported into ACM: a self-signed certificate made with
 * openssl is imported with AWS CLI v2 (fileb://), described and listed; an HTTPS listener serves
 * it, and curl reaches the target through the load balancer's DNS name (curl resolves
 * *.localhost to 127.0.0.1) verifying the certificate. ACM refuses a key that does not match and
 * the deletion of a certificate in use.
 */
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand, DeleteListenerCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ACMClient, GetCertificateCommand, ListCertificatesCommand } from '@aws-sdk/client-acm';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { AWS_CLI_V2 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { eventually, startBackend, type Backend } from './helpers/lb.js';
import { freePort } from './helpers/net.js';

const run = promisify(execFile);
let d: TestDockyard;
let dir: string;
let target: Backend;

before(async () => {
  d = await startDockyard();
  target = await startBackend('tls-target');
  dir = mkdtempSync(join(tmpdir(), 'dockyard-lb-tls-'));
  const selfSigned = (name: string) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-subj', '/CN=*.us-east-1.elb.localhost', '-addext', 'subjectAltName=DNS:*.us-east-1.elb.localhost,DNS:localhost'], { stdio: 'ignore' });
  selfSigned('lb');
  selfSigned('other');
});
after(async () => {
  await target.close();
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function aws(args: string[]) {
  try {
    const { stdout } = await run(AWS_CLI_V2, [...args, '--endpoint-url', d.endpoint, '--output', 'json'], { env: d.cliEnv, timeout: 60_000 });
    return { code: 0, json: stdout.trim() ? JSON.parse(stdout) : {}, stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, json: undefined, stderr: err.stderr ?? '' };
  }
}

test('an HTTPS listener serves an ACM-imported self-signed certificate; curl reaches the target by the DNS name', async () => {
  const mismatched = await aws(['acm', 'import-certificate', '--certificate', `fileb://${join(dir, 'lb.crt')}`, '--private-key', `fileb://${join(dir, 'other.key')}`]);
  assert.match(mismatched.stderr, /ValidationException/);

  const imported = await aws(['acm', 'import-certificate', '--certificate', `fileb://${join(dir, 'lb.crt')}`, '--private-key', `fileb://${join(dir, 'lb.key')}`, '--tags', 'Key=use,Value=lb']);
  assert.equal(imported.code, 0, imported.stderr);
  const certArn: string = imported.json.CertificateArn;
  assert.match(certArn, /^arn:aws:acm:us-east-1:000000000000:certificate\/[0-9a-f-]{36}$/);
  const described = (await aws(['acm', 'describe-certificate', '--certificate-arn', certArn])).json.Certificate;
  assert.deepEqual([described.DomainName, described.Type, described.Status, described.KeyAlgorithm], ['*.us-east-1.elb.localhost', 'IMPORTED', 'ISSUED', 'RSA_2048']);
  assert.deepEqual(described.SubjectAlternativeNames, ['*.us-east-1.elb.localhost', 'localhost']);
  assert.deepEqual(described.InUseBy, []);
  const acm = new ACMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const listed = await acm.send(new ListCertificatesCommand({}));
  assert.deepEqual(listed.CertificateSummaryList?.map((c) => c.CertificateArn), [certArn]);
  const pem = await acm.send(new GetCertificateCommand({ CertificateArn: certArn }));
  assert.equal(pem.Certificate?.trim(), readFileSync(join(dir, 'lb.crt'), 'utf8').trim());
  assert.ok(!JSON.stringify(pem).includes('PRIVATE KEY'), 'the key never leaves');
  acm.destroy();

  const elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'secure' }))).LoadBalancers![0]!;
  const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'secure', Protocol: 'HTTP', Port: target.port, VpcId: 'vpc-1', TargetType: 'ip', HealthCheckEnabled: false }))).TargetGroups![0]!;
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1' }] }));
  const port = await freePort();
  const listener = (
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: port, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', Certificates: [{ CertificateArn: certArn }], DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))
  ).Listeners![0]!;
  assert.deepEqual([listener.Protocol, listener.SslPolicy, listener.Certificates?.[0]?.CertificateArn], ['HTTPS', 'ELBSecurityPolicy-TLS13-1-2-2021-06', certArn]);
  // An HTTPS target group: TLS to the target too (its certificate is not verified, as ALB does not).
  const tlsTarget = createHttpsServer({ cert: readFileSync(join(dir, 'other.crt')), key: readFileSync(join(dir, 'other.key')) }, (req, res) => res.end(`tls target saw ${req.headers['x-forwarded-proto']}`));
  await new Promise<void>((r) => tlsTarget.listen(0, '127.0.0.1', r));
  const httpsTg = (await elb.send(new CreateTargetGroupCommand({ Name: 'secure-tls', Protocol: 'HTTPS', Port: (tlsTarget.address() as AddressInfo).port, VpcId: 'vpc-1', TargetType: 'ip', HealthCheckEnabled: false }))).TargetGroups![0]!;
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: httpsTg.TargetGroupArn, Targets: [{ Id: '127.0.0.1' }] }));
  await elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 1, Conditions: [{ Field: 'path-pattern', Values: ['/tls-target'] }], Actions: [{ Type: 'forward', TargetGroupArn: httpsTg.TargetGroupArn }] }));
  await d.app.loadBalancing!.settled();

  const url = `https://${lb.DNSName}:${port}/hello`;
  const out = await eventually(async () => {
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--cacert', join(dir, 'lb.crt'), url]);
    return stdout;
  }, `curl ${url}`);
  const body = JSON.parse(out) as { backend: string; path: string; headers: Record<string, string> };
  assert.deepEqual([body.backend, body.path, body.headers['x-forwarded-proto'], body.headers['x-forwarded-port']], ['tls-target', '/hello', 'https', String(port)]);
  const viaTls = await run('curl', ['-sS', '--max-time', '10', '--cacert', join(dir, 'lb.crt'), `https://${lb.DNSName}:${port}/tls-target`]);
  assert.equal(viaTls.stdout, 'tls target saw https');
  tlsTarget.close();
  tlsTarget.closeAllConnections();
  // Without trusting the self-signed certificate, curl refuses it: the listener really serves it.
  await assert.rejects(run('curl', ['-sS', '--max-time', '10', url]), /SSL certificate problem|self-signed/);

  const inUse = await aws(['acm', 'delete-certificate', '--certificate-arn', certArn]);
  assert.match(inUse.stderr, /ResourceInUseException/);
  assert.deepEqual((await aws(['acm', 'describe-certificate', '--certificate-arn', certArn])).json.Certificate.InUseBy, [lb.LoadBalancerArn]);
  await elb.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
  const deleted = await aws(['acm', 'delete-certificate', '--certificate-arn', certArn]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match((await aws(['acm', 'describe-certificate', '--certificate-arn', certArn])).stderr, /ResourceNotFoundException/);
  elb.destroy();
});
