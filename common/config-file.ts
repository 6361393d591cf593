// Reading the one YAML topology file every service shares, and reporting problems the way an
// operator can act on: the file, the path inside it, and what was expected.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `zones[0].records[3].value` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

export async function readYamlFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    // The yaml package's message already says "at line L, column C".
    throw new ConfigError(`${file}: invalid YAML: ${err.message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  return doc.toJS() ?? {};
}

/** Validates `data` against `schema`; every problem found is listed, each with its path. */
export function parseWith<S extends z.ZodType>(file: string, schema: S, data: unknown): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 10).map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
    return `${file}: ${formatPath(issue.path)}: ${issue.message}${keys}`;
  });
  if (result.error.issues.length > 10) lines.push(`… and ${result.error.issues.length - 10} more problems`);
  throw new ConfigError(lines.join('\n'));
}
