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

// Scope first: the session list is loaded for the chosen project.
const properties: INodeProperties[] = [...scopeProperties, sessionIdProperty, optionsCollection()];

const displayOptions = { show: { resource: ['session'], operation: ['getSummary'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const sessionId = sessionIdOf(this, itemIndex);
	const summary = await llamaCloudRequest(this, 'GET', sessionPath(sessionId, '/summary'), {
		qs: scopeQuery(this, itemIndex),
		itemIndex,
	});
	return [{ json: summary, pairedItem: { item: itemIndex } }];
}
