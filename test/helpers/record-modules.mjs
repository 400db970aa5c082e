// `node --import ./record-modules.mjs …` appends the URL of every module the process resolves
// through the ES module loader (its own files, packages it imports, node: built-ins) to the file
// named by DOCKYARD_MODULE_LOG, one a line. test/cli-artifact.test.ts reads it to tell which
// parts of Dockyard a command loaded.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
const log = process.env.DOCKYARD_MODULE_LOG;
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (log) appendFileSync(log, resolved.url + '\\n');
  return resolved;
}`)}`,
);
