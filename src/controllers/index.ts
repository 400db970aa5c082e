/** Control loops (DESIGN.md "Controllers"): each wakes on the change feed or a timer and runs only on the leader. */
export { soleLeader, type Leadership } from './leadership.js';
export { ServiceController, type ServiceControllerOptions } from './service-controller.js';
