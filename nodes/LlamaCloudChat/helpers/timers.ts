import * as workflow from 'n8n-workflow';

type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

// n8n's rules forbid `setTimeout` in community nodes and point to n8n-workflow's `sleep` (see
// CONTRIBUTING, "Timers"). n8n-workflow clears its timer when given an AbortSignal: `sleepWithAbort`
// (n8n-workflow 1.100 to 2.33; not yet in 1.95), `sleep(ms, signal)` (2.34 and newer, which no longer
// export `sleepWithAbort`). The oldest supported n8n (1.85, n8n-workflow 1.83) has only `sleep(ms)`,
// which ignores the signal: its timer then runs out on its own, holding nothing but a settled promise.
const { sleep, sleepWithAbort } = workflow as unknown as { sleep: Sleep; sleepWithAbort?: Sleep };
const abortableSleep: Sleep = typeof sleepWithAbort === 'function' ? sleepWithAbort : sleep;

/**
 * Waits `ms` milliseconds, or less: it returns as soon as `signal` aborts (never throws). Each of the
 * node's timers is one of these, stopped with its own AbortController once it is no longer needed.
 */
export async function elapsed(ms: number, signal?: AbortSignal): Promise<void> {
	if (!signal) return await sleep(ms);
	if (signal.aborted) return;
	// n8n-workflow's sleep gets a signal of its own, aborted when the wait is over however it ended:
	// its timer is cleared then, and no listener of it stays on the caller's (long-lived) signal.
	const over = new AbortController();
	let onAbort: () => void = () => {};
	const aborted = new Promise<void>((resolve) => {
		onAbort = resolve;
		signal.addEventListener('abort', onAbort);
	});
	try {
		// The abortable sleep rejects when aborted: that is the end of the wait, not an error.
		await Promise.race([abortableSleep(ms, over.signal).catch(() => undefined), aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
		over.abort();
	}
}
