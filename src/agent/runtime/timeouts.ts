/**
 * Every Docker Engine call's time limit, with the reason for it (the ECS agent keeps these in
 * one file too). A call that passes its limit is cancelled and fails; the supervisor then treats
 * the step as failed and the task as unable to start, rather than hanging a task forever.
 */
export const DOCKER_TIMEOUTS_MS = {
  /** /info and /version: local metadata, answered instantly by a healthy daemon. */
  info: 10_000,
  /** Image pulls move real bytes (ECS allows 2 h); local registries are fast, but 100 MB layers on a busy disk are not. */
  pull: 15 * 60_000,
  /** Image inspect/import: metadata, or a tiny locally built pause image. */
  imageInspect: 10_000,
  imageImport: 60_000,
  /** Create writes the container's config and rootfs layer: ~15 ms idle, seconds under load (ECS: 4 min). */
  create: 4 * 60_000,
  /** Start sets up namespaces, veths and docker-proxy: ~300 ms idle here, longer under load (ECS: 3 min). */
  start: 3 * 60_000,
  /** Stop = the container's own stop timeout plus this margin for the daemon to reap it. */
  stopMargin: 30_000,
  /** Inspect: metadata only. */
  inspect: 30_000,
  /** Remove of a stopped container or volume: unmounts and deletes the layer (~200 ms here). */
  remove: 5 * 60_000,
  /** Listing managed containers for adoption. */
  list: 60_000,
  /** Network create/inspect/remove. */
  network: 60_000,
  /** Volume create/inspect. */
  volume: 60_000,
  /** One stats sample: Docker waits for a second CPU reading (~1 s) before answering. */
  stats: 10_000,
  /** Quiet time after which the events stream is re-opened, in case it silently died. */
  eventsIdle: 5 * 60_000,
} as const;

export type DockerTimeouts = { readonly [K in keyof typeof DOCKER_TIMEOUTS_MS]: number };

/**
 * Runs a Docker call with a time limit. The call gets an AbortSignal to hand to dockerode
 * (`abortSignal`), which aborts the HTTP request to the daemon when the limit passes: the daemon
 * sees the client go away (a pull stops; nothing is left running on our side). The caller gets a
 * clear "timed out" error at the limit even if the call ignores its signal.
 */
export function withTimeout<T>(ms: number, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`Docker ${what} timed out after ${ms} ms`);
      reject(error);
      controller.abort(error);
    }, ms);
  });
  let running: Promise<T>;
  try {
    running = call(controller.signal);
  } catch (e) {
    clearTimeout(timer);
    return Promise.reject(e);
  }
  // Once the limit has won, the aborted call's own rejection is expected: keep it from surfacing as unhandled.
  running.catch(() => undefined);
  return Promise.race([running, limit]).finally(() => clearTimeout(timer));
}
