import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { MAX_INDEXES_PER_SESSION } from '../helpers/validation';

// Empty is allowed: it means "the API key's default".
const UUID_REGEX = '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$';

/** Where the call runs. Both go in the query string; empty means "the API key's default". */
export const scopeProperties: INodeProperties[] = [
	{
		displayName: 'Organization',
		name: 'organization',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		description: 'Leave empty to use the organization of the API key',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchOrganizations', searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: '9a1b2c3d-0000-4000-8000-000000000001',
				validation: [
					{
						type: 'regex',
						properties: { regex: UUID_REGEX, errorMessage: 'Organization IDs are UUIDs, e.g. 9a1b2c3d-0000-4000-8000-000000000001' },
					},
				],
			},
		],
	},
	{
		displayName: 'Project',
		name: 'project',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		description: 'Leave empty to use the default project of the API key',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchProjects', searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: '2f0e1a2b-0000-4000-8000-000000000001',
				validation: [
					{
						type: 'regex',
						properties: { regex: UUID_REGEX, errorMessage: 'Project IDs are UUIDs, e.g. 2f0e1a2b-0000-4000-8000-000000000001' },
					},
				],
			},
		],
	},
];

export const indexIdsProperty: INodeProperties = {
	displayName: 'Index Names or IDs',
	name: 'indexIds',
	type: 'multiOptions',
	typeOptions: {
		loadOptionsMethod: 'getIndexes',
		loadOptionsDependsOn: ['project.value', 'organization.value'],
	},
	default: [],
	description: `Indexes to retrieve from, at most ${MAX_INDEXES_PER_SESSION}. By expression: an array of IDs or a comma-separated string. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.`,
};

/**
 * Create and Ask: what the new session's share link grants. A field of LlamaCloud's newer API
 * revision, sent only when the option is added (older deployments and the EU region may not know it).
 */
export const shareLinkAccessOption: INodeProperties = {
	displayName: 'Share Link Access',
	name: 'sharedAccess',
	type: 'options',
	options: [
		{ name: 'Query', value: 'query', description: 'Viewers of the share link may ask new questions' },
		{ name: 'Read Only', value: 'read_only', description: 'Viewers of the share link see the transcript only' },
	],
	default: 'read_only',
	description: "What the session's share link grants. Without this option, LlamaCloud's default applies.",
};

/** The create body's `shared_access`, only when the user set it. */
export function sharedAccessBody(context: IExecuteFunctions, itemIndex: number): IDataObject {
	const value = context.getNodeParameter('options.sharedAccess', itemIndex, '') as string;
	return value === 'query' || value === 'read_only' ? { shared_access: value } : {};
}

/** Options every operation shares: they shape how requests are made, not what they ask for. */
const requestOptions: INodeProperties[] = [
	{
		displayName: 'Batching',
		name: 'batching',
		placeholder: 'Add Batching',
		type: 'fixedCollection',
		typeOptions: { multipleValues: false },
		default: { batch: {} },
		description: 'How many items run at the same time',
		options: [
			{
				displayName: 'Batching',
				name: 'batch',
				values: [
					{
						displayName: 'Items per Batch',
						name: 'batchSize',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 1,
						description: 'Items processed concurrently. Output order always matches input order.',
					},
					{
						displayName: 'Batch Interval (Ms)',
						name: 'batchInterval',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 0,
						description: 'Pause between batches, in milliseconds',
					},
				],
			},
		],
	},
	{
		displayName: 'Retries',
		name: 'maxRetries',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 10 },
		default: 2,
		description:
			'How often to retry a failed request, with backoff; 0 turns retries off. Creating a session or sending a message is retried only when LlamaCloud surely did not act on it (a refused connection, or a 429 or 503 with Retry-After), so nothing is done twice.',
	},
	{
		displayName: 'Timeout (Ms)',
		name: 'timeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60000,
		description: 'How long to wait for LlamaCloud to start answering a request, in milliseconds',
	},
];

export const sessionIdProperty: INodeProperties = {
	displayName: 'Session',
	name: 'sessionId',
	type: 'resourceLocator',
	required: true,
	// Chains after "Create" or "Send": the previous node's output carries `session_id`.
	default: { mode: 'id', value: '={{ $json.session_id }}' },
	description: 'The chat session to use',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'searchSessions', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: 'ses-abc123',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: '^[A-Za-z0-9][A-Za-z0-9_.:~-]{0,127}$',
						errorMessage: 'Session IDs contain no spaces, e.g. ses-abc123',
					},
				},
			],
		},
	],
};

/** An operation's "Options": its own options and the shared request options, in alphabetical order as n8n lists them. */
export function optionsCollection(operationOptions: INodeProperties[] = []): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [...operationOptions, ...requestOptions].sort((a, b) => a.displayName.localeCompare(b.displayName)),
	};
}
