import {
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { sendMessage } from '../../helpers/chatTurn';
import { scopeQuery } from '../../helpers/scope';
import { sessionIdOf, sessionPath } from '../../helpers/session';
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
		description: `${indexIdsProperty.description} Leave empty to use the indexes the session is bound to; unbound sessions need them here.`,
	},
	optionsCollection(messageOptions),
];

const displayOptions = { show: { resource: ['message'], operation: ['send'] } };

export const description = updateDisplayOptions(displayOptions, properties);

/**
 * The API wants `index_ids` on every message, even for bound sessions. When none are given we use
 * the session's own set: from the incoming item when it is that session (e.g. straight after
 * Create), otherwise from its summary.
 */
async function boundIndexIds(
	context: IExecuteFunctions,
	itemIndex: number,
	sessionId: string,
	qs: IDataObject,
): Promise<string[]> {
	const incoming = context.getInputData()[itemIndex]?.json;
	// `index_ids: null` on the incoming session means "unbound": no need to ask LlamaCloud again.
	const fromIncoming = incoming?.session_id === sessionId && incoming && 'index_ids' in incoming;
	let indexIds = fromIncoming ? incoming.index_ids : undefined;
	if (!fromIncoming) {
		const summary = await llamaCloudRequest(context, 'GET', sessionPath(sessionId, '/summary'), { qs, itemIndex });
		indexIds = summary.index_ids;
	}
	if (!Array.isArray(indexIds) || indexIds.length === 0) {
		throw new NodeOperationError(context.getNode(), `Session ${sessionId} is not bound to any index`, {
			itemIndex,
			description: "Choose the indexes to search in 'Indexes' for this message, or create the session with indexes.",
		});
	}
	return indexIds.map(String);
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const sessionId = sessionIdOf(this, itemIndex);
	const prompt = validatePrompt(node, this.getNodeParameter('prompt', itemIndex, ''), itemIndex);
	const chosenIndexIds = parseIndexIds(node, this.getNodeParameter('indexIds', itemIndex, []), itemIndex);
	const options = readMessageOptions(this, itemIndex);
	const qs = scopeQuery(this, itemIndex);
	const indexIds = chosenIndexIds.length > 0 ? chosenIndexIds : await boundIndexIds(this, itemIndex, sessionId, qs);

	const json = await sendMessage(this, { sessionId, prompt, indexIds, qs, itemIndex }, options);
	return [{ json, pairedItem: { item: itemIndex } }];
}
