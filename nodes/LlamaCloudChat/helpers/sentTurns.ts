import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, NodeApiError } from 'n8n-workflow';

import { runsAsTool } from './tool';

/** What became of the messages one input item sent in one run of the node. */
interface ItemTurns {
	/** The item's failure after sending: what the user must see again on a retry. */
	failure?: NodeApiError | NodeOperationError;
	/** The item's output, when it succeeded after sending. */
	result?: INodeExecutionData[];
}

/**
 * The chat turns input items sent, remembered in this process so that n8n's *Retry On Fail* (the
 * node setting, which re-runs a failed node with the same input items, also for AI Agent tools)
 * never sends a message twice.
 *
 * Keyed by the input item's JSON object itself: n8n passes the very same object to every try of a
 * run (WorkflowExecute re-runs the same execution data; an agent's tool call passes the same
 * arguments), while anything else is a new object. So entries live exactly as long as n8n holds
 * the execution's items, and memory is bounded by the executions in flight. Within an object: the
 * execution, node, item index, and (outside tool calls, whose tries n8n numbers as new runs) the
 * run index, so that an item reaching the node twice in one execution, e.g. through two branches,
 * still counts as two messages.
 */
const turnsByItem = new WeakMap<object, Map<string, ItemTurns>>();

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

function entryOf(context: IExecuteFunctions, itemIndex: number): ItemTurns | undefined {
	const json = inputJson(context, itemIndex);
	const items = json && turnsByItem.get(json);
	return items?.get(keyOf(context, itemIndex));
}

/** A message of the item may have reached LlamaCloud (anything but 'not sent' and 'turned away'). */
export function rememberTurnSent(context: IExecuteFunctions, itemIndex: number): void {
	const json = inputJson(context, itemIndex);
	if (!json) return;
	let items = turnsByItem.get(json);
	if (!items) turnsByItem.set(json, (items = new Map()));
	const key = keyOf(context, itemIndex);
	if (!items.has(key)) items.set(key, {});
}

/** Keeps how the item's run ended, if it sent a message: a retry then repeats that instead of sending. */
export function settleTurns(
	context: IExecuteFunctions,
	itemIndex: number,
	outcome: { result: INodeExecutionData[] } | { failure: NodeApiError | NodeOperationError },
): void {
	const entry = entryOf(context, itemIndex);
	// The first run's outcome is what counts: a retry that was refused changes nothing.
	if (entry && !entry.result && !entry.failure) Object.assign(entry, outcome);
}

/**
 * For an item n8n re-runs after it sent a message: its earlier output (answered), or else throws the
 * error that refuses to send it again. `undefined` when the item sent nothing yet: it runs as usual.
 */
export function repeatedItem(context: IExecuteFunctions, itemIndex: number): INodeExecutionData[] | undefined {
	const entry = entryOf(context, itemIndex);
	if (!entry) return undefined;
	const node = context.getNode();
	if (entry.result) {
		context.logger.info("n8n's Retry On Fail re-ran an item that was already answered; its answer is returned again", {
			node: node.name,
			itemIndex,
		});
		return entry.result.map((item) => ({ ...item }));
	}
	const first = entry.failure;
	const firstFailure = first ? ` The first attempt failed: ${[first.message, first.description].filter(Boolean).join('. ')}` : '';
	const error = new NodeOperationError(
		node,
		"n8n's Retry On Fail re-ran a message that may already have reached LlamaCloud: it was not sent again",
		{
			itemIndex,
			description:
				`Sending it again could duplicate the chat turn.${firstFailure} Turn off 'Retry On Fail' in the node's Settings: ` +
				"the node's own 'Retries' option repeats a message only when LlamaCloud surely did not get it.",
		},
	);
	if (first?.context.session_id !== undefined) error.context.session_id = first.context.session_id;
	error.context.delivery = 'unknown';
	throw error;
}
