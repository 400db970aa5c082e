/**
 * Every Docker Engine call's time limit, with the reason for it (the ECS agent keeps these in
 * one file too). A call that passes its limit fails; the supervisor then treats the step as
 * failed and the task as unable to start, rather than hanging a task forever.
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

/** Rejects with a clear message when `p` does not settle within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Docker ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
