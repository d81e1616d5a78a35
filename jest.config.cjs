/** Jest runs the TypeScript sources through ts-jest (CommonJS), mapping `./x.js` imports to `./x.ts`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/global-setup.cjs',
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
};
