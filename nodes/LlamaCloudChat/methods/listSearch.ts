import {
	NodeApiError,
	type ILoadOptionsFunctions,
	type INodeListSearchItems,
	type INodeListSearchResult,
	type JsonObject,
} from 'n8n-workflow';

import { currentScopeQuery } from '../helpers/scope';
import { llamaCloudRequest } from '../transport';

interface Project {
	id: string;
	name: string;
	organization_id: string;
	is_default?: boolean;
}

interface Organization {
	id: string;
	name?: string;
}

interface SessionPage {
	items?: Array<{ session_id: string; generated_title?: string | null; last_updated_at?: string }>;
	next_page_token?: string | null;
}

function matches(filter: string | undefined, ...texts: Array<string | undefined>): boolean {
	if (!filter) return true;
	const needle = filter.toLowerCase();
	return texts.some((text) => text?.toLowerCase().includes(needle));
}

async function listProjects(context: ILoadOptionsFunctions, organizationId?: string): Promise<Project[]> {
	const projects = await llamaCloudRequest<Project[]>(context, 'GET', '/api/v1/projects', {
		qs: { organization_id: organizationId },
		response: 'array',
	});
	return Array.isArray(projects) ? projects : [];
}

export async function searchProjects(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const { organization_id } = currentScopeQuery(this, ['organization']);
	const projects = await listProjects(this, organization_id as string | undefined);
	const results: INodeListSearchItems[] = projects
		.filter((project) => matches(filter, project.name, project.id))
		.map((project) => ({
			name: project.is_default ? `${project.name} (default)` : project.name,
			value: project.id,
		}));
	return { results };
}

/**
 * Organizations from `GET /api/v1/organizations`. That endpoint left LlamaCloud's SDKs, so when it
 * answers 404 the organizations are derived from the projects the key can see.
 */
export async function searchOrganizations(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	let organizations: Organization[];
	try {
		organizations = await llamaCloudRequest<Organization[]>(this, 'GET', '/api/v1/organizations', { response: 'array' });
	} catch (error) {
		if ((error as { httpCode?: string }).httpCode !== '404') throw new NodeApiError(this.getNode(), error as JsonObject);
		const projects = await listProjects(this);
		const ids = [...new Set(projects.map((project) => project.organization_id))];
		organizations = ids.map((id) => ({ id }));
	}
	const results = (Array.isArray(organizations) ? organizations : [])
		.filter((organization) => matches(filter, organization.name, organization.id))
		.map((organization) => ({ name: organization.name ?? organization.id, value: organization.id }));
	return { results };
}

/** Recent sessions of the chosen project, one LlamaCloud page per call (n8n asks for more on scroll). */
export async function searchSessions(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const page = await llamaCloudRequest<SessionPage>(this, 'GET', '/api/v1/chat', {
		qs: { ...currentScopeQuery(this), page_size: 50, page_token: paginationToken },
	});
	const items = Array.isArray(page?.items) ? page.items : [];
	const results = items
		.filter((session) => matches(filter, session.generated_title ?? undefined, session.session_id))
		.map((session) => ({
			name: session.generated_title ? `${session.generated_title}` : `Untitled session (${session.session_id})`,
			value: session.session_id,
			description: session.last_updated_at ? `Last updated ${session.last_updated_at}` : undefined,
		}));
	return { results, paginationToken: items.length > 0 && page.next_page_token ? page.next_page_token : undefined };
}
