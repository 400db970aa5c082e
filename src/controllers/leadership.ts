/**
 * Who runs the controllers. Controllers act only while this process is the leader, so that a
 * second control-plane replica (PostgreSQL, DESIGN.md) never double-acts; a PostgreSQL advisory
 * lock will implement this interface there. One process on SQLite is always the leader.
 */
export interface Leadership {
  /** True while this process may act. */
  isLeader(): boolean;
}

/** The single-process case: always the leader. */
export const soleLeader: Leadership = { isLeader: () => true };
