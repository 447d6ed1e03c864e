import type { INodeProperties } from 'n8n-workflow';

import * as create from './create.operation';
import * as deleteSession from './delete.operation';
import * as get from './get.operation';
import * as getAll from './getAll.operation';
import * as getSummary from './getSummary.operation';

export { create, deleteSession as delete, get, getAll, getSummary };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['session'] } },
		options: [
			{
				name: 'Create',
				value: 'create',
				description: 'Create a chat session, optionally bound to indexes',
				action: 'Create a session',
			},
			{
				name: 'Delete',
				value: 'delete',
				description: 'Delete a chat session',
				action: 'Delete a session',
			},
			{
				name: 'Get',
				value: 'get',
				description: 'Get a session with its full conversation history',
				action: 'Get a session',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				description: 'List the chat sessions of a project',
				action: 'Get many sessions',
			},
			{
				name: 'Get Summary',
				value: 'getSummary',
				description: 'Get the title and last-run metadata of a session, without its history',
				action: 'Get a session summary',
			},
		],
		default: 'create',
	},
	...create.description,
	...deleteSession.description,
	...get.description,
	...getAll.description,
	...getSummary.description,
];
