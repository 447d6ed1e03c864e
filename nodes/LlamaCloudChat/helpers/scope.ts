import type { IDataObject, IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { optionalUuid } from './validation';

/** `organization_id` / `project_id` for the query string of an item's request (empty ones are left out). */
export function scopeQuery(context: IExecuteFunctions, itemIndex: number): IDataObject {
	const node = context.getNode();
	const organization = context.getNodeParameter('organization', itemIndex, '', { extractValue: true });
	const project = context.getNodeParameter('project', itemIndex, '', { extractValue: true });
	return {
		organization_id: optionalUuid(node, 'Organization', organization, itemIndex),
		project_id: optionalUuid(node, 'Project', project, itemIndex),
	};
}

/** The same scope while the editor loads a list: invalid or unset values are simply not sent. */
export function currentScopeQuery(
	context: ILoadOptionsFunctions,
	only: Array<'organization' | 'project'> = ['organization', 'project']): IDataObject {
	const read = (name: string): string | undefined => {
		const value = context.getCurrentNodeParameter(name, { extractValue: true });
		return typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value.trim()) ? value.trim() : undefined;
	};
	return {
		organization_id: only.includes('organization') ? read('organization') : undefined,
		project_id: only.includes('project') ? read('project') : undefined,
	};
}
