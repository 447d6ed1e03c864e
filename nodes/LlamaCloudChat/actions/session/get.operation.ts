import {
	updateDisplayOptions,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { scopeQuery } from '../../helpers/scope';
import { sessionIdOf, sessionPath } from '../../helpers/session';
import { llamaCloudRequest } from '../../transport';
import { optionsCollection, scopeProperties, sessionIdProperty } from '../common.descriptions';

// Scope first: index and session lists are loaded for the chosen project.
const properties: INodeProperties[] = [
	...scopeProperties,
	sessionIdProperty,
	optionsCollection([
		{
			displayName: 'Include Events',
			name: 'includeEvents',
			type: 'boolean',
			default: true,
			description: 'Whether to include the conversation history (`events`): every prompt, tool call and answer',
		},
	]),
];

const displayOptions = { show: { resource: ['session'], operation: ['get'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const sessionId = sessionIdOf(this, itemIndex);
	const includeEvents = this.getNodeParameter('options.includeEvents', itemIndex, true) as boolean;
	const session = await llamaCloudRequest(this, 'GET', sessionPath(sessionId), {
		qs: scopeQuery(this, itemIndex),
		itemIndex,
	});
	if (!includeEvents) delete session.events;
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
