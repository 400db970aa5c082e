/**
 * A data-plane worker process (started by src/lb/workers.ts through node:cluster): serves the
 * listeners of the snapshots it is sent and reports back what it applied, its bound ports and the
 * in-flight requests of draining targets. It exits when told to, or when the primary goes away.
 */
import { ListenerRuntime, type DataPlaneLog } from './listeners.js';
import type { FromWorker, ToWorker } from './workers.js';

const send = (msg: FromWorker) => {
  if (process.connected) process.send!(msg);
};
const plain = (obj: object) => JSON.parse(JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? { message: v.message, code: (v as { code?: string }).code } : v))) as object;
const log: DataPlaneLog = {
  info: (obj, msg) => send({ type: 'log', level: 'info', obj: plain(obj), msg }),
  error: (obj, msg) => send({ type: 'log', level: 'error', obj: plain(obj), msg }),
};
const runtime = new ListenerRuntime(log, () => report());

const report = () => send({ type: 'report', version: runtime.version, bound: runtime.boundPorts(), inflight: runtime.inflight() });

// Applied in arrival order: a snapshot waits for the previous one.
let queue = Promise.resolve();
process.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'apply':
      queue = queue
        .then(() => runtime.apply(msg.snapshot))
        .catch((err: unknown) => log.error({ err }, 'load balancer configuration could not be applied'))
        .then(report);
      break;
    case 'health':
      runtime.setHealth(msg.health);
      break;
    case 'elsewhere':
      runtime.setElsewhere(msg.inflight);
      break;
    case 'stats':
      send({ type: 'stats', id: msg.id, stats: runtime.takeStats() });
      break;
    case 'close':
      void runtime.close().finally(() => process.exit(0));
      break;
  }
});
setInterval(report, 500);
send({ type: 'ready' });
