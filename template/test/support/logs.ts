// Log lines: captured from an in-process app, or parsed from a spawned server's output.
import { randomBytes } from 'node:crypto';

export type LogLine = Record<string, unknown>;

/** A pino destination that keeps every line; `lines` is the raw text, `entries` the parsed objects. */
export class LogCapture {
  readonly lines: string[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line !== '') this.lines.push(line);
  }

  get entries(): LogLine[] {
    return this.lines.map((line) => JSON.parse(line) as LogLine);
  }

  /** Lines written since `mark` (a previous `lines.length`). */
  since(mark: number): LogLine[] {
    return this.lines.slice(mark).map((line) => JSON.parse(line) as LogLine);
  }

  text(since = 0): string {
    return this.lines.slice(since).join('\n');
  }

  byRequestId(id: string): LogLine[] {
    return this.entries.filter((entry) => entry.reqId === id);
  }

  events(name: string, since = 0): LogLine[] {
    return this.since(since).filter((entry) => entry.event === name);
  }
}

/** The lines that are JSON objects (a server's log lines); anything else is skipped. */
export function parseJsonLines(lines: string[]): LogLine[] {
  const out: LogLine[] = [];
  for (const line of lines) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object') out.push(parsed as LogLine);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** A value that must never show up in output (a log line, an error message), unique per call. */
export function canary(tag: string): string {
  return `${tag}-${randomBytes(5).toString('hex')}`;
}
