/**
 * README.md as the README tests read it: its TypeScript examples, CLI mentions, environment
 * variables and error class names. The tests hold these against the code, so the README a user
 * copies from stays true.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository root. */
export const REPO = resolve(__dirname, '../..');

/** The README's text, read fresh (`README_PATH` points the tests at another copy, e.g. a broken one). */
export function readmeText(): string {
  return readFileSync(process.env.README_PATH ?? resolve(REPO, 'README.md'), 'utf8');
}

/**
 * How a ```ts block is checked:
 * - `program`: it imports from `connectome-storage` and is a whole module as a user would copy it;
 * - `snippet`: no import; it continues the quick start, using the `storage` opened there;
 * - `fragment`: marked `<!-- readme-check: fragment ... -->` right before it (the comment says
 *   why): it leaves out something on purpose (a name, a class's primitives), so it is
 *   type-checked but for what is left out, and not run.
 */
export type BlockKind = 'program' | 'snippet' | 'fragment';

/** One ```ts / ```typescript block of the README. */
export interface ReadmeBlock {
  /** The line of the opening fence (1-based), to name the block in failures. */
  line: number;
  kind: BlockKind;
  code: string;
}

const FRAGMENT_MARK = /^<!--\s*readme-check:\s*fragment\b[\s\S]*-->\s*$/;
const PACKAGE_IMPORT = /^import\s[^;]*\sfrom\s+'connectome-storage';/m;

/** Every ```ts / ```typescript block of `text`, in order. */
export function tsBlocks(text: string): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    if (!/^```(?:ts|typescript)\s*$/.test(lines[index] ?? '')) continue;
    const start = index;
    const body: string[] = [];
    for (index += 1; index < lines.length && !/^```\s*$/.test(lines[index] ?? ''); index += 1) {
      body.push(lines[index] ?? '');
    }
    // The mark sits right before the fence, a blank line between them allowed.
    let before = start - 1;
    while (before >= 0 && (lines[before] ?? '').trim() === '') before -= 1;
    const code = `${body.join('\n')}\n`;
    const kind: BlockKind = FRAGMENT_MARK.test(lines[before] ?? '')
      ? 'fragment'
      : PACKAGE_IMPORT.test(code)
        ? 'program'
        : 'snippet';
    blocks.push({ line: start + 1, kind, code });
  }
  return blocks;
}

/** Names like `CONNECTOME_STORAGE_TYPE`, without the patterns (`CONNECTOME_STORAGE_*`, `CONNECTOME_SEMANTIC*`). */
const VARIABLE = /\bCONNECTOME_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])/g;
/** The family of a variable (`CONNECTOME_EMBEDDER_`), which a shorthand `_MODEL` after it continues. */
const FAMILY = /^CONNECTOME_[A-Z0-9]+_/;

/**
 * Every environment variable `text` names, with the line it is on. A shorthand continuing a
 * full name on the same line (`` `CONNECTOME_EMBEDDER_URL`, `_MODEL` ``) counts as the full name.
 */
export function variableMentions(text: string): Map<string, number> {
  const found = new Map<string, number>();
  text.split('\n').forEach((line, index) => {
    let family: string | undefined;
    for (const match of line.matchAll(/`(_[A-Z0-9_]*[A-Z0-9])`|\bCONNECTOME_[A-Z0-9_]*[A-Z0-9_*]/g)) {
      const whole = match[0];
      if (match[1] !== undefined) {
        if (family !== undefined && !found.has(family + match[1].slice(1))) {
          found.set(family + match[1].slice(1), index + 1);
        }
        continue;
      }
      const name = whole.match(VARIABLE)?.[0];
      if (name === undefined || name !== whole) continue;
      family = FAMILY.exec(name)?.[0];
      if (!found.has(name)) found.set(name, index + 1);
    }
  });
  return found;
}

/** Every `...Error` class name `text` mentions, with the first line it is on. */
export function errorMentions(text: string): Map<string, number> {
  const found = new Map<string, number>();
  text.split('\n').forEach((line, index) => {
    for (const [name] of line.matchAll(/\b[A-Z][A-Za-z0-9]*Error\b/g)) {
      if (!found.has(name)) found.set(name, index + 1);
    }
  });
  return found;
}

/** A `connectome-storage <subcommand> ...` mention, with the flags written after it on its line. */
export interface CommandMention {
  /** The line it ends on (1-based). */
  line: number;
  /** The subcommand, or `undefined` for `connectome-storage --flag`. */
  command: string | undefined;
  flags: string[];
}

const FLAG = /(?<![\w-])--[a-z][a-z0-9-]*/g;

/**
 * Every `connectome-storage <subcommand>` of `text` (a command line in a code block or in
 * backticks), with the flags written after it up to the next one or the line's end, or on the
 * indented lines continuing it.
 */
export function commandMentions(text: string): CommandMention[] {
  const mentions: CommandMention[] = [];
  text.split('\n').forEach((line, index) => {
    // A command line wrapped in a code block goes on with an indented `[--option ...]`.
    const previous = mentions.at(-1);
    if (previous !== undefined && previous.line === index && /^\s+\[--/.test(line)) {
      previous.flags.push(...(line.match(FLAG) ?? []));
      previous.line = index + 1;
      return;
    }
    const parts = line.split(/(?=\bconnectome-storage (?:[a-z-]+\b|--))/);
    for (const part of parts) {
      const head = /^connectome-storage ([a-z][a-z-]*)?/.exec(part);
      // `connectome-storage` alone in prose (the package's name) names no command.
      if (head === null || (head[1] === undefined && !part.startsWith('connectome-storage --'))) continue;
      // Only the command line itself: prose after a closing backtick is not its flags.
      const commandLine = part.split('`')[0] ?? part;
      mentions.push({ line: index + 1, command: head[1], flags: commandLine.match(FLAG) ?? [] });
    }
  });
  return mentions;
}

/** Every `--flag` of `text`, with the first line it is on. */
export function flagMentions(text: string): Map<string, number> {
  const found = new Map<string, number>();
  text.split('\n').forEach((line, index) => {
    for (const [flag] of line.matchAll(FLAG)) if (!found.has(flag)) found.set(flag, index + 1);
  });
  return found;
}

/** The text of the `## <title>` section of `text`, up to the next `## ` heading. */
export function section(text: string, title: string): string {
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/**
 * A config key's documented default: `true`, `10`, `'./storage_data'`; `null` for "none" (no
 * value); `undefined` when the README gives a kind of value, not a default (`client` (an
 * ioredis `Redis`/`Cluster`)).
 */
export type DocumentedDefault = boolean | number | string | null | undefined;

/** The default a key's parenthesis states: its first backticked value, unless it describes a kind. */
function documentedDefault(parenthesis: string): DocumentedDefault {
  if (parenthesis.startsWith('none')) return null;
  if (/^an? /.test(parenthesis)) return undefined;
  const value = /`([^`]*)`/.exec(parenthesis)?.[1];
  if (value === 'true' || value === 'false') return value === 'true';
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * The config keys the Configuration section documents per backend, with their defaults: its
 * table's rows (`all` rows apply to every backend) and its "`postgres` also takes `x` (...)
 * and `y` (...)" lines. A key is a backticked name before its parenthesised default.
 */
export function configKeys(text: string): Map<string, Map<string, DocumentedDefault>> {
  const keys = new Map<string, Map<string, DocumentedDefault>>();
  for (const line of section(text, 'Configuration').split('\n')) {
    const row = /^\|\s*`?([a-z]+)`?\s*\|(.*)\|\s*$/.exec(line);
    const also = /^`([a-z]+)` also takes (.*?):/.exec(line);
    const [backend, cell] = row ? [row[1], row[2]] : also ? [also[1], also[2]] : [];
    if (backend === undefined || cell === undefined || backend === 'backend') continue;
    const backendKeys = keys.get(backend) ?? new Map<string, DocumentedDefault>();
    keys.set(backend, backendKeys);
    for (const [, key, parenthesis] of cell.matchAll(/`([A-Za-z]+)` \(([^)]*)\)/g)) {
      if (key !== undefined) backendKeys.set(key, documentedDefault(parenthesis ?? ''));
    }
  }
  return keys;
}

/** A heading's GitHub anchor: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/**
 * The anchors a Markdown text's headings give, as GitHub makes them (a repeated heading gets
 * `-1`, `-2`, ...). Fenced code is skipped: a `# comment` in a shell block is no heading.
 */
export function headingAnchors(text: string): Set<string> {
  const counts = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of text.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(heading ?? '');
    const seen = counts.get(base) ?? 0;
    counts.set(base, seen + 1);
    anchors.add(seen === 0 ? base : `${base}-${seen}`);
  }
  return anchors;
}

/** Every `](file#anchor)` link of `text` (file empty for the text itself), with its line. */
export function anchorLinks(text: string): { line: number; file: string; anchor: string }[] {
  return text
    .split('\n')
    .flatMap((line, index) =>
      [...line.matchAll(/\]\(([^)#\s]*)#([^)\s]+)\)/g)]
        .filter(([, file]) => !/^[a-z]+:/.test(file ?? ''))
        .map(([, file, anchor]) => ({ line: index + 1, file: file ?? '', anchor: anchor ?? '' })),
    );
}
