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

type SessionSummary = NonNullable<SessionPage['items']>[number];

/** Sessions scanned per search call: enough for most projects, bounded so a search stays quick. */
const SEARCH_PAGE_SIZE = 100;
const MAX_SEARCH_PAGES = 20;
/** A search call returns once it has this many matches; scrolling continues from there. */
const ENOUGH_MATCHES = 50;

function sessionItem(session: SessionSummary): INodeListSearchItems {
	return {
		name: session.generated_title ? `${session.generated_title}` : `Untitled session (${session.session_id})`,
		value: session.session_id,
		description: session.last_updated_at ? `Last updated ${session.last_updated_at}` : undefined,
	};
}

/** A pasted session ID is looked up directly, so it is found however old the session is. */
async function sessionById(context: ILoadOptionsFunctions, id: string): Promise<SessionSummary | undefined> {
	if (!/^[A-Za-z0-9][A-Za-z0-9_.:~-]{0,127}$/.test(id)) return undefined;
	try {
		return await llamaCloudRequest<SessionSummary>(context, 'GET', `/api/v1/chat/${encodeURIComponent(id)}/summary`, {
			qs: currentScopeQuery(context),
		});
	} catch (error) {
		// Not a session ID after all (unknown, or not of the ID's shape): search the pages instead.
		const status = (error as { httpCode?: string }).httpCode;
		if (status === '404' || status === '422') return undefined;
		throw new NodeApiError(context.getNode(), error as JsonObject);
	}
}

/**
 * Recent sessions of the chosen project. Without a filter: one LlamaCloud page per call (n8n asks for
 * the next one on scroll). With a filter: LlamaCloud cannot search, so pages are scanned here until
 * enough sessions match or MAX_SEARCH_PAGES pages were read; a list with matches can scroll on from
 * there. (A page with no matches cannot scroll, so n8n would never ask for the next one.)
 */
export async function searchSessions(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const qs = currentScopeQuery(this);
	const needle = filter?.trim();
	if (!needle) {
		const page = await llamaCloudRequest<SessionPage>(this, 'GET', '/api/v1/chat', {
			qs: { ...qs, page_size: ENOUGH_MATCHES, page_token: paginationToken },
		});
		const items = Array.isArray(page?.items) ? page.items : [];
		return { results: items.map(sessionItem), paginationToken: items.length > 0 && page.next_page_token ? page.next_page_token : undefined };
	}

	const results: INodeListSearchItems[] = [];
	const exact = paginationToken ? undefined : await sessionById(this, needle);
	if (exact) results.push(sessionItem(exact));
	// The pasted session heads the first answer; the pages (also those scrolled to later) skip it.
	// When it was not found by ID on the first call, it is in no page either.
	const shownFirst = exact?.session_id ?? (paginationToken ? needle : undefined);
	let token = paginationToken;
	for (let pages = 0; pages < MAX_SEARCH_PAGES; pages++) {
		const page = await llamaCloudRequest<SessionPage>(this, 'GET', '/api/v1/chat', {
			qs: { ...qs, page_size: SEARCH_PAGE_SIZE, page_token: token },
		});
		const items = Array.isArray(page?.items) ? page.items : [];
		for (const session of items) {
			if (session.session_id === shownFirst) continue;
			if (matches(needle, session.generated_title ?? undefined, session.session_id)) results.push(sessionItem(session));
		}
		token = items.length > 0 && page.next_page_token ? page.next_page_token : undefined;
		if (!token || results.length >= ENOUGH_MATCHES) break;
	}
	return { results, paginationToken: results.length > 0 ? token : undefined };
}
