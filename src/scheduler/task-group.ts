/** Task groups, as ECS defines them ("Task groups" in the ECS developer guide). */
import type { TaskView } from './types.js';

/** ECS's default task group: standalone tasks without a group belong to `family:<family>`. */
export function taskGroupOf(task: Pick<TaskView, 'group' | 'family'>): string {
  return task.group ?? defaultGroup(task.family);
}

/** The group of a standalone task started without one. */
export function defaultGroup(family: string): string {
  return `family:${family}`;
}
