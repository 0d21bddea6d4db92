// Jest for the admin tab's components (sfdx-lwc-jest): TypeScript tests beside each component in
// __tests__/, wire adapters driven through the test adapters sfdx-lwc-jest provides.
import sfdxLwcJest from '@salesforce/sfdx-lwc-jest/config.js';

const { jestConfig } = sfdxLwcJest;

export default {
  ...jestConfig,
  // TypeScript sources first: the compiled .js beside them is a build output for deployment.
  moduleFileExtensions: ['ts', 'js', 'html'],
  testMatch: ['<rootDir>/force-app/**/__tests__/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/.preview-build/', '<rootDir>/preview/dist/'],
  moduleNameMapper: {
    // sfdx-lwc-jest's navigation stub records nothing; this one lets tests see where the tab navigated.
    '^lightning/navigation$': '<rootDir>/test/jest-mocks/lightning/navigation.js',
  },
  setupFilesAfterEnv: [...(jestConfig.setupFilesAfterEnv ?? []), '<rootDir>/test/jest-setup.js'],
  coverageDirectory: 'coverage/lwc',
};
