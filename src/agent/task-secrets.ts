/**
 * The agent's side of task secrets: fetches GET task-secrets once per task (alongside its setup
 * and pulls; creates wait for it), keeps the values in memory only (never in LocalTask, which is reported,
 * nor in logs), hands them to the pull (registry credentials) and to container creation
 * (environment variables), and forgets them once every container of the task exists.
 */
import type { RegistryAuth, TaskAssignment, TaskSecretsResponse } from '../protocol/index.js';
import type { LocalTask } from './task-state.js';

const ATTEMPTS = 3;
const UNREACHABLE = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: the control plane could not be reached';

export class TaskSecrets {
  private readonly byTask = new Map<string, TaskSecretsResponse>();

  /** Sets task.secrets (DONE, or FAILED with ECS's reason); `current` says whether the task is still this supervisor's. */
  async fetch(task: LocalTask, fetcher: ((t: TaskAssignment) => Promise<TaskSecretsResponse>) | undefined, current: () => boolean): Promise<void> {
    let answer: TaskSecretsResponse | undefined;
    for (let attempt = 0; attempt < ATTEMPTS && fetcher && !answer; attempt++) {
      try {
        answer = await fetcher(task.spec);
      } catch {
        // The error text is not kept: the reason says what happened without the transport's details.
        if (attempt < ATTEMPTS - 1) await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
    if (!current()) return;
    if (!answer || answer.failure) {
      task.secrets = 'FAILED';
      task.secretsFailure = answer?.failure ?? UNREACHABLE;
      return;
    }
    this.byTask.set(task.arn, answer);
    task.secrets = 'DONE';
  }

  environment(taskArn: string, container: string): { name: string; value: string }[] {
    return this.byTask.get(taskArn)?.containers.find((c) => c.name === container)?.environment ?? [];
  }

  registryAuth(taskArn: string, container: string): RegistryAuth | undefined {
    return this.byTask.get(taskArn)?.containers.find((c) => c.name === container)?.registryAuth;
  }

  /** `text` with every value of the task's secrets replaced by `***` (for error messages that might quote them). */
  redact(taskArn: string, text: string): string {
    const values = (this.byTask.get(taskArn)?.containers ?? []).flatMap((c) => [...c.environment.map((e) => e.value), c.registryAuth?.password ?? '']).filter((v) => v.length > 0);
    // Longest first, so a value that contains another is replaced whole.
    return values.sort((a, b) => b.length - a.length).reduce((t, v) => t.split(v).join('***'), text);
  }

  /** Drops a task's values once no container of it waits to be pulled or created (or it stops). */
  forgetWhenCreated(task: LocalTask): void {
    if (!this.byTask.has(task.arn)) return;
    if (task.desired === 'STOPPED' || Object.values(task.containers).every((c) => c.known !== 'NONE' && c.known !== 'PULLED')) this.byTask.delete(task.arn);
  }

  forget(taskArn: string): void {
    this.byTask.delete(taskArn);
  }

  clear(): void {
    this.byTask.clear();
  }
}
