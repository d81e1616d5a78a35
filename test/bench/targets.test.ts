/** The benchmark's arithmetic: medians, speed ratios (inverted for times) and target checks. */
import { median } from '../../bench/method';
import { ratio, type Row } from '../../bench/rows';
import { checkTargets } from '../../bench/targets';

const row = (over: Partial<Row>): Row => ({
  workload: 'W1',
  backend: 'sqlite',
  label: 'x',
  unit: 'ops/s',
  higherIsBetter: true,
  headline: true,
  values: {},
  ...over,
});

describe('bench arithmetic', () => {
  test('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  test('ratios are library speed over the other speed, also for times', () => {
    expect(ratio(row({ values: { library: 80, raw: 100 } }), 'raw')).toBeCloseTo(0.8);
    const times = row({ unit: 'ms', higherIsBetter: false, values: { library: 20, keyv: 10 } });
    expect(ratio(times, 'keyv')).toBeCloseTo(0.5);
    expect(ratio(row({ values: { library: 1 } }), 'keyv')).toBeUndefined();
  });

  test('raw and Keyv targets are met or missed per headline row', () => {
    const checks = checkTargets([row({ values: { library: 79, raw: 100, keyv: 79 } })]);
    expect(checks.map((c) => [c.target, c.status])).toEqual([
      ['>= 0.8x raw', 'missed'],
      ['>= 1.0x Keyv', 'met'],
    ]);
  });

  test('per-call growth is checked on sqlite and only reported on file', () => {
    const perCall = (backend: Row['backend'], size: number, ms: number): Row =>
      row({
        workload: 'W2',
        backend,
        unit: 'ms',
        higherIsBetter: false,
        headline: false,
        size,
        values: { library: ms },
      });
    const checks = checkTargets([
      perCall('sqlite', 10, 1),
      perCall('sqlite', 1000, 2.5),
      perCall('file', 10, 1),
      perCall('file', 1000, 50),
    ]);
    expect(checks.map((c) => [c.backend, c.status])).toEqual([
      ['sqlite', 'missed'],
      ['file', 'reported'],
    ]);
  });
});
