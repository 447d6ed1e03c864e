import type { IExecuteFunctions } from 'n8n-workflow';

/** The node runs as an AI Agent tool (n8n derives the `…Tool` node type from `usableAsTool`). */
export function runsAsTool(context: IExecuteFunctions): boolean {
	return context.getNode().type.endsWith('Tool');
}
