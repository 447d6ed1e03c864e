'use strict';
// Preloaded into Stryker's jest test runner processes (stryker.config.mjs, testRunnerNodeArgs).
//
// For each mutant, Stryker's jest runner runs jest with a `testNamePattern` of the tests that cover
// the mutant, but over every test file: jest loads all ~30 files (each loads n8n-core and starts a
// sandbox) just to skip most of their tests, ~20 s per mutant on the 2-core machine. This hook
// remembers, from the first (dry) run of all tests, which file holds which test, and then hands
// jest only the files that hold a test the pattern selects. The same tests run, with the same
// names; files without one of them are not loaded. When a pattern names a test the map does not
// know, jest runs as Stryker asked (every file), so a mutant can never lose a test that covers it.
// COVERING_FILES_LOG=<file> appends, per mutant run, the files jest was given (to check the hook).

const fs = require('node:fs');
const path = require('node:path');

const MAP_FILE = '.stryker-test-files.json';

let cli;
let scheduler;
try {
	// jest's own runCLI (jest → @jest/core → build/cli), the module object Stryker's runner calls through.
	const core = path.dirname(require.resolve('@jest/core/package.json', { paths: [process.cwd()] }));
	cli = require(path.join(core, 'build', 'cli', 'index.js'));
	scheduler = require(path.join(core, 'build', 'TestScheduler.js'));
} catch {
	cli = undefined; // no jest here: nothing to do
}

/** Test file (relative to the sandbox) → full names of its tests, from the dry run. */
let testsByFile;

function loadMap() {
	if (testsByFile) return testsByFile;
	try {
		testsByFile = new Map(Object.entries(JSON.parse(fs.readFileSync(path.join(process.cwd(), MAP_FILE), 'utf8'))));
	} catch {
		return undefined;
	}
	return testsByFile;
}

function rememberFiles(results) {
	const map = {};
	for (const file of results.testResults ?? []) {
		map[path.relative(process.cwd(), file.testFilePath)] = (file.testResults ?? []).map((test) => test.fullName);
	}
	testsByFile = new Map(Object.entries(map));
	fs.writeFileSync(path.join(process.cwd(), MAP_FILE), JSON.stringify(map));
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The files holding the tests `pattern` selects, or undefined when a selected test is not in the map. */
function filesFor(pattern) {
	const map = loadMap();
	if (!map || !pattern.startsWith('(') || !pattern.endsWith(')')) return undefined;
	// Stryker's pattern is `(name1)|(name2)|…`, each full name escaped; jest matches it case-insensitively.
	const names = pattern
		.slice(1, -1)
		.split(')|(')
		.map((name) => new RegExp(name, 'i'));
	const files = new Set();
	for (const name of names) {
		const holding = [...map].filter(([, tests]) => tests.some((test) => name.test(test))).map(([file]) => file);
		if (holding.length === 0) return undefined; // the map is stale: let jest look everywhere
		for (const file of holding) files.add(file);
	}
	return [...files];
}

// Bail: once a test failed the mutant is killed, and the files not yet run cannot change that.
// jest's own `bail` ends the process (process.exit), which would take Stryker's runner with it; this
// stops the run the way jest's watch mode does, by interrupting it after the current file.
let bailing = false;
if (scheduler && typeof scheduler.createTestScheduler === 'function') {
	const createTestScheduler = scheduler.createTestScheduler;
	scheduler.createTestScheduler = async function withBail(...args) {
		const instance = await createTestScheduler.apply(this, args);
		const bailIfNeeded = instance._bailIfNeeded;
		instance._bailIfNeeded = async function (contexts, results, watcher) {
			if (bailing && results.numFailedTests + results.numRuntimeErrorTestSuites > 0) {
				await watcher.setState({ interrupted: true });
				return;
			}
			return await bailIfNeeded.call(this, contexts, results, watcher);
		};
		return instance;
	};
}

if (cli && typeof cli.runCLI === 'function') {
	const runCLI = cli.runCLI;
	cli.runCLI = async function coveringFilesOnly(argv, projects) {
		const mutantRun = typeof argv.testNamePattern === 'string' && argv.testNamePattern !== '' && (argv._ ?? []).length === 0;
		if (!mutantRun) {
			const result = await runCLI.call(this, argv, projects);
			if (!argv.testNamePattern) rememberFiles(result.results);
			return result;
		}
		const files = filesFor(argv.testNamePattern);
		if (process.env.COVERING_FILES_LOG) {
			const line = `${new Date().toISOString()} ${files ? `${files.length} file(s): ${files.join(' ')}` : 'all files (a test is not in the map)'}\n`;
			fs.appendFileSync(process.env.COVERING_FILES_LOG, line);
		}
		const narrowed = files ? { ...argv, _: files.map((file) => `${escapeRegExp(file)}$`) } : argv;
		bailing = true;
		try {
			return await runCLI.call(this, narrowed, projects);
		} finally {
			bailing = false;
		}
	};
}
