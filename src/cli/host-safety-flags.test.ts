/** The host-safety flags as commander parses them, over the environment. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { hostSafetySettings, withHostSafetyOptions, type HostSafetyFlags } from './host-safety-flags.js';

function parse(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cmd = withHostSafetyOptions(new Command('agent').exitOverride());
  cmd.parse(args, { from: 'user' });
  return hostSafetySettings(cmd.opts<HostSafetyFlags>(), env);
}

describe('host-safety flags', () => {
  it('leave every setting to the defaults when none is given', () => {
    assert.deepEqual(parse([]), {});
  });

  it('map each flag onto its setting; the lists repeat', () => {
    assert.deepEqual(
      parse(['--allow-privileged', '--allow-docker-socket', '--allow-host-path', '/srv', '--allow-host-path', '/var/log', '--deny-host-network', '--allow-host-pid', '--allow-host-ipc', '--allow-capability', 'NET_ADMIN', '--allow-device', '/dev/fuse']),
      { allowPrivileged: true, allowDockerSocket: true, allowHostPaths: ['/srv', '/var/log'], allowHostNetwork: false, allowHostPid: true, allowHostIpc: true, allowCapabilities: ['NET_ADMIN'], allowDevices: ['/dev/fuse'] },
    );
  });

  it('take the environment where no flag is given, and win over it where one is', () => {
    const env = { DOCKYARD_AGENT_ALLOW_HOST_PATHS: '/data', ECS_DISABLE_PRIVILEGED: 'false', DOCKYARD_AGENT_DENY_HOST_NETWORK: 'true' };
    assert.deepEqual(parse([], env), { allowHostPaths: ['/data'], allowPrivileged: true, allowHostNetwork: false });
    assert.deepEqual(parse(['--allow-host-path', '/srv'], env).allowHostPaths, ['/srv']);
  });
});
