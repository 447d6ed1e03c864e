/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// The node's timers (CONTRIBUTING, "Timers"): every wait is n8n-workflow's `sleep` through
// helpers/timers.ts, stopped with an AbortSignal once it is no longer needed. The engine tests
// (test/node/message/turn-ends.test.ts) show that a finished turn leaves no timer behind.

import { getEventListeners } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

import { elapsed } from '../../nodes/LlamaCloudChat/helpers/timers';

const ROOT = resolve(__dirname, '../../nodes');

function sourceFiles(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return sourceFiles(path);
		return name.endsWith('.ts') ? [path] : [];
	});
}

describe("the node's timers", () => {
	it("come from n8n-workflow's sleep through helpers/timers.ts only: no AbortSignal.timeout, no timer of its own", () => {
		const found: string[] = [];
		for (const file of sourceFiles(ROOT)) {
			const text = readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
			const name = relative(ROOT, file);
			if (/AbortSignal\.timeout|\bset(Timeout|Interval|Immediate)\b/.test(text)) found.push(`${name}: builds a timer`);
			if (name !== join('LlamaCloudChat', 'helpers', 'timers.ts') && /\bsleep(WithAbort)?\b/.test(text)) found.push(`${name}: sleeps directly`);
		}
		expect(found).toEqual([]);
	});

	it('elapsed() waits the whole time when nothing stops it', async () => {
		const started = performance.now();
		await elapsed(120, new AbortController().signal);
		expect(performance.now() - started).toBeGreaterThanOrEqual(110);
	});

	it('elapsed() returns as soon as its signal aborts, and at once when it already has', async () => {
		const stop = new AbortController();
		setTimeout(() => stop.abort(), 30);
		let started = performance.now();
		await elapsed(10_000, stop.signal);
		expect(performance.now() - started).toBeLessThan(1000);
		started = performance.now();
		await elapsed(10_000, stop.signal);
		expect(performance.now() - started).toBeLessThan(50);
	});

	it("elapsed() leaves no listener on the caller's signal, however the wait ended", async () => {
		const stop = new AbortController();
		for (let wait = 0; wait < 3; wait++) await elapsed(5, stop.signal);
		expect(getEventListeners(stop.signal, 'abort')).toEqual([]);
		const waiting = elapsed(10_000, stop.signal);
		stop.abort();
		await waiting;
		expect(getEventListeners(stop.signal, 'abort')).toEqual([]);
	});
});
