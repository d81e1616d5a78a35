/** Validation of the `options` argument of `StorageFactory.registerBackend()`. */
import { z } from 'zod';
import { ConfigError, describeValue } from '../core/errors.js';
import type { RegisterBackendOptions } from './types.js';

/** An npm package name, optionally scoped (`left-pad`, `@scope/pkg`). */
const PACKAGE_NAME = /^(?:@[a-z0-9-*~][a-z0-9-*._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/i;
/** An environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envVarSpec = z.strictObject({
  key: z.string().min(1),
  kind: z.enum(['string', 'url', 'boolean', 'number', 'integer']),
  allowEmpty: z.boolean().optional(),
});

/** A description that shows something: `getAvailableBackends()` lists it as the backend's line. */
const description = z.string().refine((text) => text.trim() !== '');

const optionsSchema = z.strictObject({
  description: description.optional(),
  packages: z.array(z.string().regex(PACKAGE_NAME)).optional(),
  env: z.record(z.string().regex(ENV_NAME), envVarSpec).optional(),
  override: z.boolean().optional(),
});

/** What each option must be, for the error message. */
const EXPECTED: Readonly<Record<string, string>> = {
  description: 'a non-empty string',
  packages: 'an array of npm package names',
  env: "an object mapping variable names to { key, kind: 'string' | 'url' | 'boolean' | 'number' | 'integer', allowEmpty? }",
  override: 'a boolean',
};

/** The value at `path` inside `root` (own data properties only), for the error message. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  try {
    for (const key of path) {
      if (typeof value !== 'object' || value === null) return undefined;
      value = Object.getOwnPropertyDescriptor(value, key)?.value;
    }
  } catch {
    return undefined; // a Proxy that threw on this second read
  }
  return value;
}

/**
 * `options` of `registerBackend(name, ...)` checked and normalized: a string is the
 * description, `undefined` is no options.
 * @throws {ConfigError} naming the option (`key` is `options.<option>`, e.g. `options.packages`
 * or `options.env.MY_VAR.kind`) for a value of the wrong type, an unknown option or key of a
 * variable's spec, or options that cannot be read.
 */
export function parseRegisterOptions(name: string, options: unknown): RegisterBackendOptions {
  const prefix = `Cannot register storage backend '${name}'`;
  if (options === undefined) return {};
  if (typeof options === 'string') {
    // An empty description was listed as an empty line until 2026-12-04.
    if (description.safeParse(options).success) return { description: options };
    throw new ConfigError(
      `${prefix}: its description must be a non-empty string, got ${describeValue(options)}`,
      'options.description',
    );
  }
  const notOptions = (): ConfigError =>
    new ConfigError(
      `${prefix}: options must be a description or an object, got ${describeValue(options)}`,
      'options',
    );
  if (typeof options !== 'object' || options === null) throw notOptions();
  let result: ReturnType<typeof optionsSchema.safeParse>;
  try {
    result = optionsSchema.safeParse(options);
  } catch (error) {
    // A getter or Proxy in the options threw while they were read.
    throw new ConfigError(`${prefix}: its options could not be read`, 'options', error);
  }
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const unknownKey = String(issue.keys[0]);
    if (issue.path.length === 0) {
      throw new ConfigError(
        `${prefix}: unknown option '${unknownKey}' (known: ${Object.keys(EXPECTED).join(', ')})`,
        `options.${unknownKey}`,
      );
    }
    // The only strict object inside the options is a variable's spec (`env.MY_VAR`); until
    // 2026-12-06 its unknown key was reported as an unknown top-level option.
    const option = issue.path.map(String).join('.');
    throw new ConfigError(
      `${prefix}: option '${option}' has an unknown key '${unknownKey}' (known: ${Object.keys(envVarSpec.shape).join(', ')})`,
      `options.${option}.${unknownKey}`,
    );
  }
  const path = issue?.path ?? [];
  if (path.length === 0) throw notOptions(); // an array
  const option = path.map(String).join('.');
  throw new ConfigError(
    `${prefix}: option '${option}' must be ${EXPECTED[String(path[0])] ?? 'valid'}, got ${describeValue(valueAt(options, path))}`,
    `options.${option}`,
  );
}
