/**
 * What the tasks already on each instance add up to, cached across schedule() calls.
 *
 * An InstanceSummary is a pure function of one InstanceView. A SnapshotMemo keeps one per
 * snapshot slot, plus flat per-instance arrays (free cpu and memory, group counts, attribute
 * buckets) that the checks and rankers scan; a call recomputes only the slots whose object
 * changed since the last call. Without a memo from the caller, schedule() makes a fresh one.
 */
import { taskGroupOf } from './task-group.js';
import type { InstanceView } from './types.js';

/**
 * Strings (task groups, attribute values) as small integers, so that per-instance lookups in
 * a call's hot loops compare numbers in a few contiguous words instead of hashing strings in
 * thousands of separate Maps.
 */
export class Interner {
  private readonly ids = new Map<string, number>();

  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(text, id);
    }
    return id;
  }
}

/** What the tasks already on an instance reserve. Immutable once built (its caches aside). */
export class InstanceSummary {
  readonly cpu: number;
  readonly memory: number;
  readonly running: number;
  /** Parallel arrays: interned task group → number of its tasks on the instance. */
  private readonly groupIds: Int32Array;
  private readonly groupCounts: Int32Array;
  readonly groupNames: readonly string[];
  private tcp: Set<number> | undefined;
  private udp: Set<number> | undefined;
  /** One-entry cache for spread by attribute: most calls ask about the same attribute. */
  private attributeName: string | undefined;
  private attributeValueId = -1;

  constructor(
    private readonly instance: InstanceView,
    private readonly interner: Interner,
  ) {
    let cpu = 0;
    let memory = 0;
    let running = 0;
    // An instance runs tasks of a handful of groups: a linear search beats a Map here.
    const names: string[] = [];
    const counts: number[] = [];
    for (const task of instance.tasks) {
      cpu += task.cpu;
      memory += task.memory;
      if (task.lastStatus === undefined || task.lastStatus === 'RUNNING') running++;
      const group = taskGroupOf(task);
      const at = names.indexOf(group);
      if (at >= 0) counts[at]!++;
      else {
        names.push(group);
        counts.push(1);
      }
    }
    this.cpu = cpu;
    this.memory = memory;
    this.running = running;
    this.groupNames = names;
    this.groupIds = new Int32Array(names.length);
    for (let i = 0; i < names.length; i++) this.groupIds[i] = interner.id(names[i]!);
    this.groupCounts = Int32Array.from(counts);
  }

  /** Tasks of the group (interned id) on the instance. */
  tasksInGroup(groupId: number): number {
    const ids = this.groupIds;
    for (let i = 0; i < ids.length; i++) if (ids[i] === groupId) return this.groupCounts[i]!;
    return 0;
  }

  /** The attribute's value as an interned id: -1 when absent; valueless attributes count as ''. */
  attributeValue(name: string): number {
    if (name !== this.attributeName) {
      const attributes = this.instance.attributes;
      this.attributeName = name;
      this.attributeValueId = Object.hasOwn(attributes, name) ? this.interner.id(`${name}=${attributes[name] ?? ''}`) : -1;
    }
    return this.attributeValueId;
  }

  /** Host ports taken by the host itself or by its tasks. */
  portsTaken(protocol: 'tcp' | 'udp'): ReadonlySet<number> {
    if (protocol === 'tcp') {
      this.tcp ??= this.collectPorts('tcp', this.instance.registered.ports);
      return this.tcp;
    }
    this.udp ??= this.collectPorts('udp', this.instance.registered.portsUdp);
    return this.udp;
  }

  private collectPorts(protocol: 'tcp' | 'udp', reserved: readonly number[]): Set<number> {
    const ports = new Set(reserved);
    for (const task of this.instance.tasks) {
      for (const bound of task.hostPorts) if (bound.protocol === protocol) ports.add(bound.port);
    }
    return ports;
  }
}

/** A copy of `array` with length n (truncated or zero-filled). */
function resized<T extends Uint8Array | Int32Array | Float64Array>(array: T, n: number): T {
  const copy = new (array.constructor as new (length: number) => T)(n);
  copy.set(array.subarray(0, n));
  return copy;
}

/** A per-instance array derived from summaries, with the slot versions it was computed at. */
interface Derived<T extends Int32Array | Float64Array> {
  values: T;
  versions: Int32Array;
}

/**
 * The cluster as of the last schedule() call, kept by the caller across calls so that a call
 * costs O(instances) pointer comparisons plus work for the instances that changed, instead of
 * re-summing every task and re-reading every instance object.
 *
 * Contract: an InstanceView (and its tasks) passed to schedule() is never mutated afterwards;
 * to change an instance, put a new object in the snapshot (copy-on-write). Positions may
 * change freely: a slot whose object differs from last time is simply recomputed.
 */
export class SnapshotMemo {
  readonly interner = new Interner();
  private seen: (InstanceView | undefined)[] = [];
  /** Undefined until first asked for: a random placement needs only a few instances summed. */
  private summaries: (InstanceSummary | undefined)[] = [];
  /** Bumped whenever the object in a slot changes; derived arrays compare against it. */
  private versions = new Int32Array(0);
  private active = new Uint8Array(0);
  /** Indices of ACTIVE instances, rebuilt when some slot's status may have changed. */
  private activeList: Int32Array | undefined;
  private identityKeys = new Int32Array(0);
  /** Per slot, filled with its summary: what checks read on every candidate, in flat arrays. */
  private freeCpu = new Float64Array(0);
  private freeMemory = new Float64Array(0);
  private connected = new Uint8Array(0);
  private readonly derivedGroups = new Map<number, Derived<Int32Array>>();
  private readonly derivedAttributes = new Map<string, Derived<Int32Array>>();
  private readonly derivedBuckets = new Map<string, Derived<Int32Array>>();
  private readonly bucketNumbering = new Map<string, Map<number, number>>();

  /** Brings the slots up to date with this snapshot's instances. */
  sync(instances: readonly InstanceView[]): void {
    const n = instances.length;
    if (n !== this.versions.length) {
      this.versions = resized(this.versions, n);
      this.active = resized(this.active, n);
      this.connected = resized(this.connected, n);
      this.freeCpu = resized(this.freeCpu, n);
      this.freeMemory = resized(this.freeMemory, n);
      this.seen.length = n;
      this.summaries.length = n;
      this.activeList = undefined;
    }
    for (let i = 0; i < n; i++) {
      const instance = instances[i]!;
      if (this.seen[i] === instance) continue;
      this.seen[i] = instance;
      this.summaries[i] = undefined;
      const active = instance.status === 'ACTIVE' ? 1 : 0;
      if (this.active[i] !== active) this.activeList = undefined;
      this.active[i] = active;
      this.versions[i]!++;
    }
  }

  summaryAt(index: number): InstanceSummary {
    let summary = this.summaries[index];
    if (!summary) {
      const instance = this.seen[index]!;
      summary = new InstanceSummary(instance, this.interner);
      this.summaries[index] = summary;
      this.freeCpu[index] = instance.registered.cpu - summary.cpu;
      this.freeMemory[index] = instance.registered.memory - summary.memory;
      this.connected[index] = instance.agentConnected ? 1 : 0;
    }
    return summary;
  }

  /** 0, 1, 2, ...: the key array of rankers scored per instance (shared: do not modify). */
  identity(): Int32Array {
    if (this.identityKeys.length !== this.versions.length) {
      this.identityKeys = new Int32Array(this.versions.length);
      for (let i = 0; i < this.identityKeys.length; i++) this.identityKeys[i] = i;
    }
    return this.identityKeys;
  }

  /** Indices of the ACTIVE instances, in snapshot order (shared: do not modify). */
  activeIndices(): Int32Array {
    if (!this.activeList) {
      const indices: number[] = [];
      for (let i = 0; i < this.active.length; i++) if (this.active[i] === 1) indices.push(i);
      this.activeList = Int32Array.from(indices);
    }
    return this.activeList;
  }

  /**
   * The attribute's values as dense bucket numbers per instance, for spread by attribute
   * (instances without the attribute share one bucket). Buckets are numbered once per value
   * and kept, so `buckets` may count values no instance has any more; those stay empty.
   */
  attributeBuckets(name: string): { bucketOf: Int32Array; buckets: number } {
    const values = this.attributeValues(name);
    let numbering = this.bucketNumbering.get(name);
    if (!numbering) {
      numbering = new Map<number, number>();
      this.bucketNumbering.set(name, numbering);
    }
    const bucketFor = (value: number): number => {
      let bucket = numbering.get(value);
      if (bucket === undefined) {
        bucket = numbering.size;
        numbering.set(value, bucket);
      }
      return bucket;
    };
    const derived = this.refresh(this.derivedBuckets.get(name), Int32Array, (i) => bucketFor(values[i]!));
    this.derivedBuckets.set(name, derived);
    return { bucketOf: derived.values, buckets: numbering.size };
  }

  /** Registered minus reserved by existing tasks, per instance (shared: do not modify). */
  free(resource: 'cpu' | 'memory'): Float64Array {
    for (let i = 0; i < this.summaries.length; i++) if (!this.summaries[i]) this.summaryAt(i);
    return resource === 'cpu' ? this.freeCpu : this.freeMemory;
  }

  /** What ProposedInstance copies: free cpu and memory and the agent state of one instance. */
  freeAt(index: number): { cpu: number; memory: number; agentConnected: boolean } {
    this.summaryAt(index);
    return { cpu: this.freeCpu[index]!, memory: this.freeMemory[index]!, agentConnected: this.connected[index] === 1 };
  }

  /** Tasks of the group (interned id) per instance. */
  tasksInGroup(groupId: number): Int32Array {
    const derived = this.refresh(this.derivedGroups.get(groupId), Int32Array, (i) => this.summaryAt(i).tasksInGroup(groupId));
    this.derivedGroups.set(groupId, derived);
    return derived.values;
  }

  /** The attribute's interned value per instance (-1: absent). */
  attributeValues(name: string): Int32Array {
    const derived = this.refresh(this.derivedAttributes.get(name), Int32Array, (i) => this.summaryAt(i).attributeValue(name));
    this.derivedAttributes.set(name, derived);
    return derived.values;
  }

  /** Recomputes the slots that changed since `derived` was built (all of them the first time). */
  private refresh<T extends Int32Array | Float64Array>(
    derived: Derived<T> | undefined,
    make: new (length: number) => T,
    compute: (index: number) => number,
  ): Derived<T> {
    const n = this.versions.length;
    if (!derived || derived.values.length !== n) {
      derived = { values: new make(n), versions: new Int32Array(n).fill(-1) };
    }
    const { values, versions } = derived;
    for (let i = 0; i < n; i++) {
      if (versions[i] === this.versions[i]) continue;
      values[i] = compute(i);
      versions[i] = this.versions[i]!;
    }
    return derived;
  }
}
