// jest setup (setupFilesAfterEnv): every sandbox any test starts reports its exchanges to a
// ContractChecker, and the test during which a violation happened fails with it. A violation that
// surfaces only after a file's last test (a stream still closing) fails the file in afterAll.

import { setExchangeObserverFactory } from '../sandbox/server';
import { ContractChecker, formatViolation } from './checker';

const checkers: ContractChecker[] = [];

setExchangeObserverFactory((sandbox, options) => {
	const checker = new ContractChecker({
		revision: () => sandbox.revision,
		requests: (options.requestsFrom ?? 'node') === 'node',
	});
	checkers.push(checker);
	return checker;
});

/** How many requests each operation (by operationId) had, across this file's sandboxes so far. */
export function contractCoverage(): Map<string, number> {
	const total = new Map<string, number>();
	for (const checker of checkers)
		for (const [id, n] of checker.checked) total.set(id, (total.get(id) ?? 0) + n);
	return total;
}

/** Violations seen since the last call, cleared (for the checker's own tests). */
export function takeContractViolations(): string[] {
	return checkers.flatMap((checker) => checker.take()).map(formatViolation);
}

function failOnViolations(): void {
	const violations = takeContractViolations();
	if (violations.length > 0) {
		throw new Error(`${violations.length} exchange(s) outside LlamaCloud's published contract:\n${violations.join('\n')}`);
	}
}

afterEach(failOnViolations);
afterAll(failOnViolations);
