import {
	updateDisplayOptions,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { scopeQuery } from '../../helpers/scope';
import { llamaCloudRequestAllItems } from '../../transport';
import { requestOptionsCollection, scopeProperties } from '../common.descriptions';

const properties: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	},
	...scopeProperties,
	requestOptionsCollection,
];

const displayOptions = { show: { resource: ['session'], operation: ['getAll'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? undefined : Math.max(1, Number(this.getNodeParameter('limit', itemIndex, 50)));
	const sessions = await llamaCloudRequestAllItems(this, '/api/v1/chat', {
		qs: scopeQuery(this, itemIndex),
		itemIndex,
		limit,
	});
	return sessions.map((session) => ({ json: session, pairedItem: { item: itemIndex } }));
}
