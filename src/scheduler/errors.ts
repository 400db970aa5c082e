/**
 * Errors the scheduler throws for input it cannot act on. The caller maps every
 * SchedulerInputError to ECS's InvalidParameterException with `message` unchanged.
 */
export class SchedulerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerInputError';
  }
}

/** A placement constraint expression that is not valid cluster query language. */
export class ClusterQueryError extends SchedulerInputError {
  /** The offending expression and the 0-based character offset where parsing failed. */
  constructor(
    message: string,
    readonly expression: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'ClusterQueryError';
  }
}

/**
 * The cluster has no ACTIVE container instance. ECS's RunTask answers this with an
 * InvalidParameterException carrying this exact message, so it is an input error too;
 * a service reconciler can catch it and report it as a service event instead.
 */
export class NoContainerInstancesError extends SchedulerInputError {
  constructor() {
    super('No Container Instances were found in your cluster.');
    this.name = 'NoContainerInstancesError';
  }
}
