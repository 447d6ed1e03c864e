import {
	updateDisplayOptions,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { scopeQuery } from '../../helpers/scope';
import { parseIndexIds } from '../../helpers/validation';
import { llamaCloudRequest } from '../../transport';
import {
	indexIdsProperty,
	optionsCollection,
	scopeProperties,
	shareLinkAccessOption,
	sharedAccessBody,
} from '../common.descriptions';

// Scope first: index and session lists are loaded for the chosen project.
const properties: INodeProperties[] = [
	...scopeProperties,
	{
		...indexIdsProperty,
		description: `${indexIdsProperty.description} Leave empty for an unbound session whose indexes are chosen per message. The set is locked after the first message.`,
	},
	optionsCollection([shareLinkAccessOption]),
];

const displayOptions = { show: { resource: ['session'], operation: ['create'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const indexIds = parseIndexIds(this.getNode(), this.getNodeParameter('indexIds', itemIndex, []), itemIndex);
	const qs = scopeQuery(this, itemIndex);
	// Unbound: `index_ids: null`, as the API documents it (n8n would send no body at all for `{}`).
	const body = { index_ids: indexIds.length > 0 ? indexIds : null, ...sharedAccessBody(this, itemIndex) };
	const session = await llamaCloudRequest(this, 'POST', '/api/v1/chat', { qs, body, itemIndex });
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
