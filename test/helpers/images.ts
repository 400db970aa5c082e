/**
 * Test images built locally (nothing can be pulled here): FROM scratch plus Debian's static
 * busybox. `bb-httpd` serves /www on :8080 and has busybox's applets for shell commands.
 * Builds are cached by tag: a second call with the image present does nothing.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BB_HTTPD = 'dockyard-test/bb-httpd:1';

function present(tag: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds `tag` from a Dockerfile whose context holds /bin/busybox as `busybox` plus `files`. */
export function buildBusyboxImage(tag: string, dockerfile: string, files: Record<string, string | Buffer> = {}): string {
  if (present(tag)) return tag;
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-image-'));
  try {
    copyFileSync('/bin/busybox', join(dir, 'busybox'));
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    execFileSync('docker', ['build', '-q', '-t', tag, dir], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** busybox httpd on :8080 serving /www/index.html ("hello from dockyard"), with /bin/sh and applets. */
export function buildHttpdImage(): string {
  return buildBusyboxImage(
    BB_HTTPD,
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'COPY www /www',
      'ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
      '',
    ].join('\n'),
    { 'www/index.html': 'hello from dockyard\n' },
  );
}

/**
 * busybox plus `files` at their absolute paths (e.g. a fake /var/lib/dpkg/status,
 * /lib/apk/db/installed, /etc/os-release): an image whose packages a scanner can inventory.
 */
export function buildPackagedImage(tag: string, files: Record<string, string | Buffer>): string {
  const root = Object.fromEntries(Object.entries(files).map(([path, content]) => [`root/${path.replace(/^\/+/, '')}`, content]));
  return buildBusyboxImage(tag, ['FROM scratch', 'COPY busybox /bin/busybox', 'COPY root /', ''].join('\n'), root);
}
