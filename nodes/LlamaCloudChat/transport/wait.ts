import { NodeOperationError, sleep, type IExecuteFunctions, type INode } from 'n8n-workflow';

/** Anything that may know the execution's cancel signal (list searches and older n8n do not). */
interface MaybeCancellable {
	getNode(): INode;
	getExecutionCancelSignal?: () => AbortSignal | undefined;
}

/** The execution's cancel signal, when this n8n has one (n8n-workflow ≥ 1.83). */
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
 * Waits `ms` with n8n's `sleep`, but gives up as soon as n8n cancels the execution, so that a long
 * Retry-After or Batch Interval never keeps a cancelled execution sending requests. Throws the
 * cancellation (tagged `context.cancelled`) instead of returning.
 */
export async function waitUnlessCancelled(
	context: MaybeCancellable,
	ms: number,
	doing: string,
	itemIndex?: number,
): Promise<void> {
	const signal = cancelSignalOf(context);
	if (signal?.aborted) throw cancelledError(context, doing, itemIndex);
	if (!signal) return await sleep(ms);
	let onAbort: () => void = () => {};
	const aborted = new Promise<never>((_, reject) => {
		onAbort = () => reject(cancelledError(context, doing, itemIndex));
		signal.addEventListener('abort', onAbort);
	});
	try {
		await Promise.race([sleep(ms), aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}
