/**
 * How `dockyard up` and `dockyard agent` write their logs: readable lines for a person at a
 * terminal (pino-pretty, in pino's worker thread), JSON lines when stdout is a file or a pipe
 * (a log collector), or as asked with --log-format.
 */
import { Option } from 'commander';

export type LogFormat = 'pretty' | 'json';

export function logFormatOption(): Option {
  return new Option('--log-format <format>', 'log lines for people (pretty) or for machines (json); default: pretty on a terminal, else json')
    .choices(['pretty', 'json'])
    .default(process.stdout.isTTY ? 'pretty' : 'json');
}

/** pino options (also fastify's `logger`) for the level and format. */
export function loggerOptions(level: string, format: LogFormat): { level: string; transport?: { target: string; options: object } } {
  if (format === 'json') return { level };
  return { level, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true } } };
}
