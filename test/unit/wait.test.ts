/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// waitUnlessCancelled: the wait behind retries and Batch Interval. The engine tests
// (test/node/reliability/hardening.test.ts, point 7) show a cancelled execution stops waiting;
// n8n discards a cancelled execution's output, so the error itself is pinned here.

import { getEventListeners } from 'node:events';

import type { INode } from 'n8n-workflow';

import { waitUnlessCancelled } from '../../nodes/LlamaCloudChat/transport/wait';

const node = { name: 'LlamaCloud Chat' } as INode;
const context = (signal?: AbortSignal) => ({ getNode: () => node, ...(signal ? { getExecutionCancelSignal: () => signal } : {}) });

async function failureOf(waiting: Promise<void>): Promise<{ message: string; description?: string; context: Record<string, unknown> }> {
	try {
		await waiting;
	} catch (error) {
		return error as { message: string; description?: string; context: Record<string, unknown> };
	}
	throw new Error('Expected the wait to be cancelled');
}

describe('waitUnlessCancelled', () => {
	it('waits the whole time when n8n gives no cancel signal (list searches, older n8n)', async () => {
		const started = performance.now();
		await waitUnlessCancelled(context(), 120, 'while waiting');
		expect(performance.now() - started).toBeGreaterThanOrEqual(110);
	});

	it('waits the whole time when nothing cancels', async () => {
		const started = performance.now();
		await waitUnlessCancelled(context(new AbortController().signal), 120, 'while waiting');
		expect(performance.now() - started).toBeGreaterThanOrEqual(110);
	});

	it('ends at the cancellation, saying what it was waiting for and that nothing more was sent', async () => {
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 50);
		const started = performance.now();
		const error = await failureOf(waitUnlessCancelled(context(controller.signal), 10_000, 'while waiting to retry a LlamaCloud request', 3));
		expect(performance.now() - started).toBeLessThan(1000);
		expect(error.message).toBe('The execution was cancelled while waiting to retry a LlamaCloud request');
		expect(error.description).toBe('Nothing more was sent to LlamaCloud after the cancellation.');
		expect(error.context).toMatchObject({ itemIndex: 3, cancelled: true });
	});

	it('leaves no listener on the execution\'s signal once the wait is over, however it ended', async () => {
		// A listener left behind would reject a promise nobody awaits when the execution is cancelled
		// later, and many waits (retries, batches) would pile them up on one signal.
		const controller = new AbortController();
		for (let wait = 0; wait < 3; wait++) await waitUnlessCancelled(context(controller.signal), 5, 'while waiting');
		expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
		setTimeout(() => controller.abort(), 20);
		await failureOf(waitUnlessCancelled(context(controller.signal), 10_000, 'while waiting'));
		expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
	});

	it('does not start waiting when the execution was already cancelled', async () => {
		const controller = new AbortController();
		controller.abort();
		const started = performance.now();
		const error = await failureOf(waitUnlessCancelled(context(controller.signal), 10_000, 'between batches'));
		expect(performance.now() - started).toBeLessThan(1000);
		expect(error.message).toBe('The execution was cancelled between batches');
		expect(error.context.cancelled).toBe(true);
	});
});
