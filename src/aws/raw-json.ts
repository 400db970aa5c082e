/**
 * A top-level output member that is already in its wire form, serialized: hot read paths that
 * keep the JSON of an unchanged document hand it to the pipeline as is, instead of having it
 * parsed, shaped and serialized again on every request. Only top-level members of an operation's
 * output may be RawJson (the JSON protocol splices them in); anywhere else it refuses to serialize.
 */
export class RawJson {
  constructor(readonly json: string) {}

  toJSON(): never {
    throw new Error('RawJson is only supported as a top-level output member');
  }
}

/** JSON.stringify for an operation's output, splicing in top-level RawJson members. */
export function stringifyOutput(output: unknown): string {
  if (typeof output !== 'object' || output === null || !Object.values(output).some((v) => v instanceof RawJson)) {
    return JSON.stringify(output ?? {});
  }
  const parts: string[] = [];
  for (const [name, value] of Object.entries(output)) {
    if (value === undefined) continue;
    parts.push(`${JSON.stringify(name)}:${value instanceof RawJson ? value.json : JSON.stringify(value)}`);
  }
  return `{${parts.join(',')}}`;
}
