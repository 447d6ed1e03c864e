import {
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { scopeQuery } from '../../helpers/scope';
import { parseLlamaCloudTime, parseUserTime } from '../../helpers/time';
import { llamaCloudRequestAllItems } from '../../transport';
import { optionsCollection, scopeProperties } from '../common.descriptions';

// Scope first: index and session lists are loaded for the chosen project.
const properties: INodeProperties[] = [
	...scopeProperties,
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
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'Last Updated Before',
				name: 'updatedBefore',
				type: 'dateTime',
				default: '',
				description:
					'Only sessions not updated since this moment, e.g. {{ $now.minus({ days: 7 }) }} for a cleanup. LlamaCloud cannot filter sessions itself, so the node pages through them.',
			},
		],
	},
	optionsCollection(),
];

const displayOptions = { show: { resource: ['session'], operation: ['getAll'] } };

export const description = updateDisplayOptions(displayOptions, properties);

function updatedBeforeFilter(context: IExecuteFunctions, itemIndex: number) {
	const value = context.getNodeParameter('filters.updatedBefore', itemIndex, '') as string | { toISO?: () => string };
	if (value === '' || value === null || value === undefined) return undefined;
	const text = typeof value === 'object' && typeof value.toISO === 'function' ? value.toISO() : String(value);
	const cutoff = parseUserTime(text, context.getTimezone());
	if (Number.isNaN(cutoff)) {
		throw new NodeOperationError(context.getNode(), `Last Updated Before: "${text}" is not a date`, {
			itemIndex,
			description: 'Give an ISO date such as 2026-11-01T00:00:00Z, or an expression such as {{ $now.minus({ days: 7 }) }}.',
		});
	}
	return (session: IDataObject) => parseLlamaCloudTime(session.last_updated_at) < cutoff;
}

function limitOf(context: IExecuteFunctions, itemIndex: number): number {
	const value = context.getNodeParameter('limit', itemIndex, 50);
	const limit = Math.floor(Number(value));
	if (!Number.isFinite(limit) || limit < 1) {
		throw new NodeOperationError(context.getNode(), `Limit must be a whole number of at least 1, got ${JSON.stringify(value)}`, {
			itemIndex,
			description: "Set 'Limit' to how many sessions to return, or turn on 'Return All'.",
		});
	}
	return limit;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? undefined : limitOf(this, itemIndex);
	const sessions = await llamaCloudRequestAllItems(this, '/api/v1/chat', {
		qs: scopeQuery(this, itemIndex),
		itemIndex,
		limit,
		filter: updatedBeforeFilter(this, itemIndex),
	});
	return sessions.map((session) => ({ json: session, pairedItem: { item: itemIndex } }));
}
