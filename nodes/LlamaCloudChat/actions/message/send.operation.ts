import {
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { sendMessage, toolResult } from '../../turn';
import { scopeQuery } from '../../helpers/scope';
import { sessionIdOf, sessionPath } from '../../helpers/session';
import { runsAsTool } from '../../helpers/runsAsTool';
import { parseIndexIds, validatePrompt } from '../../helpers/validation';
import { llamaCloudRequest } from '../../transport';
import { indexIdsProperty, optionsCollection, scopeProperties, sessionIdProperty } from '../common.descriptions';
import { messageOptions, promptProperty, readMessageOptions } from './options';

// Scope first: index and session lists are loaded for the chosen project.
const properties: INodeProperties[] = [
	...scopeProperties,
	sessionIdProperty,
	promptProperty,
	{
		...indexIdsProperty,
		description: `${indexIdsProperty.description} Leave empty to use the indexes the session is bound to (read from LlamaCloud); unbound sessions need them here.`,
	},
	optionsCollection(messageOptions),
];

const displayOptions = { show: { resource: ['message'], operation: ['send'] } };

export const description = updateDisplayOptions(displayOptions, properties);

/**
 * Which indexes a message searches. The session's binding is read from LlamaCloud (its summary),
 * never from the incoming item: item JSON comes from upstream nodes and webhooks, and trusting its
 * `index_ids` would let whoever controls it point retrieval at any index of the project.
 * - Bound session: its own set, always. 'Indexes' may be left empty or repeat that set; any other set
 *   is refused before sending, so that a mapped value can never widen (or re-bind) the session.
 * - Unbound session: the indexes chosen in 'Indexes' (already validated), required.
 */
async function indexIdsForMessage(
	context: IExecuteFunctions,
	itemIndex: number,
	sessionId: string,
	chosen: string[],
	qs: IDataObject,
): Promise<string[]> {
	const summary = await llamaCloudRequest(context, 'GET', sessionPath(sessionId, '/summary'), { qs, itemIndex });
	const bound = Array.isArray(summary.index_ids) ? summary.index_ids.map(String) : [];
	if (bound.length === 0) {
		if (chosen.length > 0) return chosen;
		throw new NodeOperationError(context.getNode(), `Session ${sessionId} is not bound to any index`, {
			itemIndex,
			description: "Choose the indexes to search in 'Indexes' for this message, or create the session with indexes.",
		});
	}
	const sameSet = chosen.length === bound.length && chosen.every((id) => bound.includes(id));
	if (chosen.length > 0 && !sameSet) {
		throw new NodeOperationError(
			context.getNode(),
			`Indexes: session ${sessionId} is bound to ${bound.join(', ')}, and a message cannot search other indexes`,
			{
				itemIndex,
				description:
					"A bound session always searches its own indexes. Leave 'Indexes' empty to use them, or create a new session (Session → Create, or Message → Ask) for other indexes.",
			},
		);
	}
	return bound;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const sessionId = sessionIdOf(this, itemIndex);
	const prompt = validatePrompt(node, this.getNodeParameter('prompt', itemIndex, ''), itemIndex);
	const chosenIndexIds = parseIndexIds(node, this.getNodeParameter('indexIds', itemIndex, []), itemIndex);
	const options = readMessageOptions(this, itemIndex);
	const qs = scopeQuery(this, itemIndex);
	const indexIds = await indexIdsForMessage(this, itemIndex, sessionId, chosenIndexIds, qs);

	const json = await sendMessage(this, { sessionId, prompt, indexIds, qs, itemIndex }, options);
	return [{ json: runsAsTool(this) ? toolResult(json, options.simplify) : json, pairedItem: { item: itemIndex } }];
}
