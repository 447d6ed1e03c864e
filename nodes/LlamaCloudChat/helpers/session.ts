import type { IExecuteFunctions } from 'n8n-workflow';

import { requiredId } from './validation';

/** The session ID of an item, from the "Session" resource locator, safe to put in a URL path. */
export function sessionIdOf(context: IExecuteFunctions, itemIndex: number): string {
	const value = context.getNodeParameter('sessionId', itemIndex, '', { extractValue: true });
	return requiredId(context.getNode(), 'Session', value, itemIndex);
}

export function sessionPath(sessionId: string, suffix = ''): string {
	return `/api/v1/chat/${encodeURIComponent(sessionId)}${suffix}`;
}
