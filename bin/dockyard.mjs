#!/usr/bin/env node
// Runs the built JavaScript in dist/ (`npm run build`; ./dockyard and `npm test` build it when
// the sources are newer). DOCKYARD_DEV=1 (or `npm run dev -- <args>`) runs the TypeScript
// sources through tsx instead, for development.
import { existsSync } from 'node:fs';

if (process.env.DOCKYARD_DEV === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  const main = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(main)) {
    process.stderr.write(
      'dockyard: no build in dist/ yet. Run `npm run build` (./dockyard builds it for you),\n' +
        'or set DOCKYARD_DEV=1 to run the TypeScript sources through tsx.\n',
    );
    process.exit(1);
  }
  await import(main.href);
}
