import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { forReaders, readerOf } from '../helpers/audience';
import { cancelledError, cancelSignalOf, repeatedItem, settleTurns, waitUnlessCancelled } from '../transport';
import { chatItemDone, orderChatByItem } from '../turn';
import * as message from './message/Message.resource';
import type { LlamaCloudChatType } from './node.type';
import * as session from './session/Session.resource';

export type OperationExecute = (this: IExecuteFunctions, itemIndex: number) => Promise<INodeExecutionData[]>;

/** Resource → operation → module; the modules also export their descriptions, hence the lookup helper. */
const resources: Record<string, Record<string, unknown>> = { session, message };

function executorOf(resource: string, operation: string): OperationExecute | undefined {
	const module = resources[resource]?.[operation] as { execute?: OperationExecute } | undefined;
	return module?.execute;
}

function errorItem(
	context: IExecuteFunctions,
	error: NodeApiError | NodeOperationError,
	itemIndex: number,
): INodeExecutionData {
	const json: IDataObject = { error: error.message };
	if (error.description) json.description = error.description;
	if (error instanceof NodeApiError && error.httpCode) json.httpCode = error.httpCode;
	const item: INodeExecutionData = { json, pairedItem: { item: itemIndex } };
	// n8n routes an item to the node's error output only when it carries the error itself; on the
	// regular output that would reduce the json to `{ error }`, losing the description and status.
	if (context.getNode().onError === 'continueErrorOutput') item.error = error;
	return item;
}

function asNodeError(context: IExecuteFunctions, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		error.context.itemIndex ??= itemIndex;
		return error;
	}
	return new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

/**
 * Runs the chosen operation once per input item, `Items per Batch` at a time, and returns the
 * results in input order. A failed item becomes an error item under "Continue On Fail";
 * otherwise the first failure (by input order) stops the node.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter<LlamaCloudChatType>('resource', 0);
	const operation = this.getNodeParameter('operation', 0) as string;
	const run = executorOf(resource, operation);
	if (!run) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported for "${resource}"`);
	}

	const batching = this.getNodeParameter('options.batching.batch', 0, {}) as IDataObject;
	const batchSize = Math.max(1, Math.floor(Number(batching.batchSize ?? 1)) || 1);
	const batchInterval = Math.max(0, Number(batching.batchInterval ?? 0) || 0);
	const continueOnFail = this.continueOnFail();
	const cancelSignal = cancelSignalOf(this);
	const reader = readerOf(this);
	// Items run side by side, but their answers reach the chat one at a time, in item order.
	orderChatByItem(this);

	const results: INodeExecutionData[][] = new Array(items.length);
	const failures = new Map<number, NodeApiError | NodeOperationError>();
	// After a failure (without Continue On Fail) or a cancellation, no further item is started.
	const mayStart = () => failures.size === 0 && !cancelSignal?.aborted;
	const runItem = async (itemIndex: number) => {
		try {
			// n8n's Retry On Fail re-runs every item: one that sent a message is never sent again.
			results[itemIndex] = repeatedItem(this, itemIndex) ?? (await run.call(this, itemIndex));
			settleTurns(this, itemIndex, { result: results[itemIndex] });
		} catch (error) {
			const failure = asNodeError(this, error, itemIndex);
			// Kept as the operator reads it; shown to whoever else reads it (a chat user, a model) in their words.
			settleTurns(this, itemIndex, { failure });
			const nodeError = forReaders(failure, reader);
			// A cancelled execution is not an item's failure to continue past.
			if (!continueOnFail || nodeError.context.cancelled === true) failures.set(itemIndex, nodeError);
			results[itemIndex] = [errorItem(this, nodeError, itemIndex)];
		}
		await chatItemDone(this, itemIndex);
	};

	if (batchInterval > 0) {
		// Waves with a pause between them, as in n8n's HTTP Request node.
		for (let start = 0; start < items.length && mayStart(); start += batchSize) {
			if (start > 0) await waitUnlessCancelled(this, batchInterval, "during the 'Batch Interval'", start);
			const wave = [];
			for (let index = start; index < Math.min(start + batchSize, items.length); index++) wave.push(runItem(index));
			await Promise.all(wave);
		}
	} else {
		// A sliding window keeps `batchSize` requests in flight without waiting for the slowest of a wave.
		let next = 0;
		const worker = async () => {
			while (next < items.length && mayStart()) await runItem(next++);
		};
		await Promise.all(Array.from({ length: Math.min(batchSize, items.length) }, worker));
	}

	if (failures.size > 0) throw failures.get(Math.min(...failures.keys()));
	if (cancelSignal?.aborted) throw cancelledError(this, 'before every item was processed');
	return [results.flat()];
}
