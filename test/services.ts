/**
 * Which test servers are reachable (probed once by `global-setup.cjs`), and the rule for
 * suites that need one: off CI an unreachable server skips the suite with a loud notice;
 * with CI=true the suite runs and fails.
 */

/** A server some backends need. */
export type TestService = 'redis' | 'postgres';

function unavailable(): Partial<Record<TestService, string>> {
  try {
    return JSON.parse(process.env.CONNECTOME_TEST_UNAVAILABLE ?? '{}') as Partial<
      Record<TestService, string>
    >;
  } catch {
    return {};
  }
}

/** Why `service` cannot be used, or `null` when it can (or nothing was probed). */
export function serviceUnavailableReason(service: TestService): string | null {
  return unavailable()[service] ?? null;
}

/**
 * `describe` for a suite that needs `service`: skipped with a loud notice when the server is
 * unreachable off CI; on CI (CI=true) it runs, so its failures fail the build.
 */
export function describeWithService(service: TestService | undefined): jest.Describe {
  if (!service) return describe;
  const reason = serviceUnavailableReason(service);
  if (reason === null || process.env.CI === 'true') return describe;
  console.warn(
    `\n!!! SKIPPING ${service.toUpperCase()} TESTS: the ${service} server is unreachable (${reason}).\n` +
      `!!! Start it with: bash scripts/services.sh   (on CI this is a failure, not a skip)\n`,
  );
  return describe.skip;
}
