import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, NodeApiError } from 'n8n-workflow';

import { runsAsTool } from '../helpers/runsAsTool';

/** What a POST of an item may have done that a second one would do again. */
export type SentRequest = 'message' | 'session';

/** What the POSTs (new sessions, chat messages) of one input item did in one run of the node. */
interface ItemRequests {
	/**
	 * What must not be sent again: a message that may have reached LlamaCloud, or a session
	 * creation whose outcome is unknown. (A session known to be created blocks nothing: the item's
	 * error names it, and a retry makes a new one.)
	 */
	blocking?: SentRequest;
	/** The item's failure: what the user must see again on a retry. */
	failure?: NodeApiError | NodeOperationError;
	/** The item's output, when it succeeded: a retry returns it instead of sending anything. */
	result?: INodeExecutionData[];
}

/**
 * The POSTs input items sent, remembered in this process so that n8n's *Retry On Fail* (the node
 * setting, which re-runs a failed node with the same input items, also for AI Agent tools) never
 * sends a chat message twice, nor creates a session again after a creation of unknown outcome.
 *
 * Keyed by the input item's JSON object itself: n8n passes the very same object to every try of a
 * run (WorkflowExecute re-runs the same execution data; an agent's tool call passes the same
 * arguments), while anything else is a new object. So entries live exactly as long as n8n holds
 * the execution's items, and memory is bounded by the executions in flight. Within an object: the
 * execution, node, item index, and (outside tool calls, whose tries n8n numbers as new runs) the
 * run index, so that an item reaching the node twice in one execution, e.g. through two branches,
 * still counts as two messages.
 */
const requestsByItem = new WeakMap<object, Map<string, ItemRequests>>();

function inputJson(context: IExecuteFunctions, itemIndex: number): object | undefined {
	const json = context.getInputData()[itemIndex]?.json as IDataObject | undefined;
	return typeof json === 'object' && json !== null ? json : undefined;
}

/** n8n-core numbers every try of an agent's tool call as a new run of the tool node. */
function toolCall(context: IExecuteFunctions): boolean {
	const isToolExecution = (context as { isToolExecution?: () => boolean }).isToolExecution;
	return runsAsTool(context) || (typeof isToolExecution === 'function' && isToolExecution.call(context) === true);
}

function keyOf(context: IExecuteFunctions, itemIndex: number): string {
	const run = toolCall(context) ? 'tool' : String(context.getWorkflowDataProxy(itemIndex).$runIndex);
	return [context.getExecutionId(), context.getNode().name, run, itemIndex].join('\u0000');
}

function entryOf(context: IExecuteFunctions, itemIndex: number): ItemRequests | undefined {
	const json = inputJson(context, itemIndex);
	const items = json && requestsByItem.get(json);
	return items?.get(keyOf(context, itemIndex));
}

/**
 * A POST of the item may have been acted on: `blocks` says what a second one could duplicate (a
 * message that may have reached LlamaCloud, a creation of unknown outcome), none for a session
 * known to be created.
 */
export function rememberSent(context: IExecuteFunctions, itemIndex: number, blocks?: SentRequest): void {
	const json = inputJson(context, itemIndex);
	if (!json) return;
	let items = requestsByItem.get(json);
	if (!items) requestsByItem.set(json, (items = new Map()));
	const key = keyOf(context, itemIndex);
	const entry = items.get(key) ?? {};
	// A message outweighs a session: it is what the error then speaks of.
	if (blocks && entry.blocking !== 'message') entry.blocking = blocks;
	items.set(key, entry);
}

/** Keeps how the item's run ended, if it sent a POST: a retry then repeats that instead of sending. */
export function settleTurns(
	context: IExecuteFunctions,
	itemIndex: number,
	outcome: { result: INodeExecutionData[] } | { failure: NodeApiError | NodeOperationError },
): void {
	const entry = entryOf(context, itemIndex);
	// The first run's outcome is what counts: a retry that was refused changes nothing.
	if (entry && !entry.result && !entry.failure) Object.assign(entry, outcome);
}

const REFUSED: Record<SentRequest, { message: string; risk: string }> = {
	message: {
		message: "n8n's Retry On Fail re-ran a message that may already have reached LlamaCloud: it was not sent again",
		risk: 'Sending it again could duplicate the chat turn.',
	},
	session: {
		message: "n8n's Retry On Fail re-ran a request that may already have created a LlamaCloud session: it was not sent again",
		risk: 'Sending it again could create a second session.',
	},
};

/**
 * For an item n8n re-runs after it sent a POST: its earlier output (answered), or else throws the
 * error that refuses to send it again. `undefined` when the item sent nothing that a retry could
 * duplicate: it runs as usual.
 */
export function repeatedItem(context: IExecuteFunctions, itemIndex: number): INodeExecutionData[] | undefined {
	const entry = entryOf(context, itemIndex);
	if (!entry) return undefined;
	const node = context.getNode();
	if (entry.result) {
		context.logger.info("n8n's Retry On Fail re-ran an item that had succeeded; its output is returned again", {
			node: node.name,
			itemIndex,
		});
		return entry.result.map((item) => ({ ...item }));
	}
	if (!entry.blocking) {
		// Nothing to duplicate (e.g. a session known to be created, then a message not sent): the item
		// runs again, and this run's outcome is the one kept.
		delete entry.failure;
		return undefined;
	}
	const refused = REFUSED[entry.blocking];
	const first = entry.failure;
	const firstFailure = first ? ` The first attempt failed: ${[first.message, first.description].filter(Boolean).join('. ')}` : '';
	const error = new NodeOperationError(node, refused.message, {
		itemIndex,
		description:
			`${refused.risk}${firstFailure} Turn off 'Retry On Fail' in the node's Settings: ` +
			"the node's own 'Retries' option repeats a request only when LlamaCloud surely did not get it.",
	});
	if (first?.context.session_id !== undefined) error.context.session_id = first.context.session_id;
	error.context.delivery = 'unknown';
	throw error;
}
