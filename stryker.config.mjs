// Mutation testing: `npm run test:mutation` (Stryker, its jest runner and TypeScript checker).
// Not part of `npm test` or CI: a full run takes hours on a 2-core machine. Measure one part at a time:
//   npm run test:mutation -- --mutate 'nodes/LlamaCloudChat/transport/**/*.ts'
// Scores, run times and the survivors left on purpose: docs/mutation-testing.md.
import { fileURLToPath } from 'node:url';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
	packageManager: 'npm',
	testRunner: 'jest',
	// The project's own jest config, so ts-jest compiles with tsconfig.jest.json as in `npm test`.
	// A mutant that makes a test hang (a retry loop without end, a wait never cut short) fails that
	// test after 10 s instead of running into Stryker's timeout, which is 1.5 × the time of all tests
	// covering the mutant + 10 s (a minute for the transport's hot path). The slowest test takes 3.6 s.
	jest: { projectType: 'custom', configFile: 'jest.config.js', enableFindRelatedTests: false, config: { testTimeout: 10_000 } },
	checkers: ['typescript'],
	tsconfigFile: 'tsconfig.json',
	typescriptChecker: { prioritizePerformanceOverAccuracy: true },
	// Each mutant runs only the tests that executed its code in the first, instrumented run, and (the
	// preloaded hook) jest loads only the files that hold them.
	testRunnerNodeArgs: ['--require', fileURLToPath(new URL('./scripts/mutation/covering-files-only.cjs', import.meta.url))],
	coverageAnalysis: 'perTest',
	// Mutants that run while modules load (constants, description tables) would each need the whole
	// suite (~90 s here): 46 % of the mutants, 93 % of the time. They are left out (reported as
	// Ignored); `--ignoreStatic false` includes them, for a run of many hours.
	ignoreStatic: true,
	mutate: ['nodes/**/*.ts', 'credentials/**/*.ts'],
	ignorePatterns: ['dist', 'dist-test', 'coverage', 'artifacts', 'reports', '*.tgz'],
	// The machine is shared: one test runner unless told otherwise (--concurrency 2).
	concurrency: 1,
	// Engine tests talk to the sandbox over loopback; a loaded machine needs slack before "timeout".
	timeoutMS: 10000,
	// Results are kept, so a re-run only tests mutants whose code or covering tests changed.
	incremental: true,
	incrementalFile: 'reports/mutation/stryker-incremental.json',
	reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
	htmlReporter: { fileName: 'reports/mutation/mutation.html' },
	jsonReporter: { fileName: 'reports/mutation/mutation.json' },
	clearTextReporter: { allowColor: false, reportScoreTable: true, reportMutants: true, reportTests: false },
	thresholds: { high: 85, low: 70, break: null },
	tempDirName: '.stryker-tmp',
	cleanTempDir: 'always',
};
