import { NodeOperationError, type IExecuteFunctions, type INode } from 'n8n-workflow';

/** Anything that may know the execution's cancel signal (list searches and older n8n do not). */
export interface MaybeCancellable {
	getNode(): INode;
	getExecutionCancelSignal?: () => AbortSignal | undefined;
}

/**
 * The execution's cancel signal, when this n8n has one (n8n-workflow ≥ 1.83). n8n aborts it when the
 * execution is cancelled and reports the execution as ended at once, but the node's promise runs on
 * until the node returns: whatever the node awaits must give up when it aborts.
 */
export function cancelSignalOf(context: MaybeCancellable | IExecuteFunctions): AbortSignal | undefined {
	const get = (context as MaybeCancellable).getExecutionCancelSignal;
	return typeof get === 'function' ? get.call(context) : undefined;
}

export function cancelledError(context: MaybeCancellable, doing: string, itemIndex?: number): NodeOperationError {
	const error = new NodeOperationError(context.getNode(), `The execution was cancelled ${doing}`, {
		itemIndex,
		description: 'Nothing more was sent to LlamaCloud after the cancellation.',
	});
	error.context.cancelled = true;
	return error;
}

/**
 * Resolves `true` as soon as `signal` aborts (at once if it already has), for racing with what the
 * node waits for; `stop()` removes its listener once the wait is over. Without a signal it never resolves.
 */
export function whenAborted(signal: AbortSignal | undefined): { aborted: Promise<true>; stop: () => void } {
	let onAbort: () => void = () => {};
	const aborted = new Promise<true>((resolve) => {
		onAbort = () => resolve(true);
		if (signal?.aborted) onAbort();
		else signal?.addEventListener('abort', onAbort);
	});
	return { aborted, stop: () => signal?.removeEventListener('abort', onAbort) };
}
