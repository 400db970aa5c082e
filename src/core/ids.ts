import { randomUUID } from 'node:crypto';

/** 32 lowercase hex digits, the form ECS uses for task and container instance ids. */
export const hexId = (): string => randomUUID().replaceAll('-', '');
