import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { currentScopeQuery } from '../helpers/scope';
import { llamaCloudRequestAllItems } from '../transport';

interface Index {
	id: string;
	name?: string;
	description?: string | null;
}

/** Every index of the chosen project (all pages), for the multi-select of indexes. */
export async function getIndexes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const indexes = await llamaCloudRequestAllItems<Index>(this, '/api/v1/indexes', {
		qs: currentScopeQuery(this),
	});
	return indexes
		.map((index) => ({
			name: index.name ? `${index.name} (${index.id})` : index.id,
			value: index.id,
			description: index.description ?? undefined,
		}))
		.sort((a, b) => a.name.localeCompare(b.name));
}
