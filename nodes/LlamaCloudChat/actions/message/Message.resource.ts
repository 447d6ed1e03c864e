import type { INodeProperties } from 'n8n-workflow';

import * as ask from './ask.operation';
import * as send from './send.operation';

export { ask, send };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['message'] } },
		options: [
			{
				name: 'Ask',
				value: 'ask',
				description: 'Ask your indexes a question in one step: creates a session, sends the question, returns the answer',
				// Also the AI Agent tool's automatic description: "<action> in LlamaCloud Chat".
				action: 'Answer a question from your documents',
			},
			{
				name: 'Send',
				value: 'send',
				description: 'Send a message in an existing session and get the answer',
				action: 'Send a message',
			},
		],
		default: 'ask',
	},
	...ask.description,
	...send.description,
];
