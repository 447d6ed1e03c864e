import type { INodeProperties } from 'n8n-workflow';

import * as message from './message/Message.resource';
import * as session from './session/Session.resource';

/** Resource selector, then each resource's operation selector and operation parameters. */
export const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Message',
				value: 'message',
				description: 'Ask questions and read answers',
			},
			{
				name: 'Session',
				value: 'session',
				description: 'A chat conversation over one or more indexes',
			},
		],
		default: 'message',
	},
	...message.description,
	...session.description,
];
