/** @type {import('jest').Config} */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
	},
	testTimeout: 30000,
	// Every exchange with the sandbox is held to LlamaCloud's published contract (test/contract).
	setupFilesAfterEnv: ['<rootDir>/test/contract/setup.ts'],
	reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
