/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- Node.js test/dev code, never run inside n8n */
// Seed data for the LlamaCloud sandbox. Every id is fixed so docs, examples and
// tests can hard-code them; nothing here is real LlamaCloud data.

export const DEFAULT_API_KEY = 'llx-sandbox-0123456789abcdef';

export interface SandboxFixtures {
	organizationId: string;
	otherOrganizationId: string;
	defaultProjectId: string;
	secondProjectId: string;
	forbiddenProjectId: string;
	indexIds: string[];
	secondProjectIndexIds: string[];
}

export interface Passage {
	text: string;
	file_name: string;
	page: number;
}

export interface OrganizationSeed {
	id: string;
	name: string;
	/** Whether the sandbox API key belongs to this organization. */
	member: boolean;
}

export interface ProjectSeed {
	id: string;
	name: string;
	organization_id: string;
	is_default: boolean;
	/** Whether the sandbox API key may use this project (false => 403). */
	accessible: boolean;
}

export interface IndexSeed {
	id: string;
	name: string;
	project_id: string;
	description: string | null;
	corpus: Passage[];
}

export const FIXTURE_IDS: SandboxFixtures = {
	organizationId: '6f1c2a3b-4d5e-4f60-8a71-0b2c3d4e5f60',
	otherOrganizationId: '7a2d3b4c-5e6f-4071-9b82-1c3d4e5f6071',
	defaultProjectId: '2f0e6c1a-8b3d-4e5f-9a70-1b2c3d4e5f01',
	secondProjectId: '3a1f7d2b-9c4e-4f60-8b81-2c3d4e5f6a02',
	forbiddenProjectId: '4b2a8e3c-0d5f-4071-9c92-3d4e5f6a7b03',
	indexIds: ['idx-q3-reports', 'idx-product-handbook', 'idx-support-tickets'],
	secondProjectIndexIds: ['idx-onboarding-faq', 'idx-release-notes'],
};

// Fixed timestamps (with Z, as the projects/indexes docs examples show).
export const SEED_CREATED_AT = '2026-04-01T09:00:00Z';
export const SEED_UPDATED_AT = '2026-04-01T09:05:00Z';

export const ORGANIZATIONS: OrganizationSeed[] = [
	{ id: FIXTURE_IDS.organizationId, name: 'Acme Research', member: true },
	// Exists, but the key is not a member: used for 403 / cross-org cases.
	{ id: FIXTURE_IDS.otherOrganizationId, name: 'Globex Partners', member: false },
];

export const PROJECTS: ProjectSeed[] = [
	{
		id: FIXTURE_IDS.defaultProjectId,
		name: 'Default',
		organization_id: FIXTURE_IDS.organizationId,
		is_default: true,
		accessible: true,
	},
	{
		id: FIXTURE_IDS.secondProjectId,
		name: 'Customer Support',
		organization_id: FIXTURE_IDS.organizationId,
		is_default: false,
		accessible: true,
	},
	{
		id: FIXTURE_IDS.forbiddenProjectId,
		name: 'Board (restricted)',
		organization_id: FIXTURE_IDS.otherOrganizationId,
		is_default: true,
		accessible: false,
	},
];

export const INDEXES: IndexSeed[] = [
	{
		id: 'idx-q3-reports',
		name: 'Q3 reports',
		project_id: FIXTURE_IDS.defaultProjectId,
		description: 'Quarterly board reports and finance memos for Q3 2026.',
		corpus: [
			{
				text: 'Q3 revenue grew 12% quarter over quarter to €4.2M, driven mainly by enterprise renewals in the DACH region.',
				file_name: 'q3-2026-board-report.pdf',
				page: 2,
			},
			{
				text: 'Operating costs fell 3% after the data-centre consolidation, and gross margin improved to 71%.',
				file_name: 'q3-2026-board-report.pdf',
				page: 5,
			},
			{
				text: 'The main risk flagged for Q4 is customer concentration: the top five accounts make up 38% of revenue.',
				file_name: 'q3-2026-risk-memo.pdf',
				page: 1,
			},
		],
	},
	{
		id: 'idx-product-handbook',
		name: 'Product handbook',
		project_id: FIXTURE_IDS.defaultProjectId,
		description: 'Plans, pricing, refunds and feature reference.',
		corpus: [
			{
				text: 'Refunds are available within 30 days of purchase for annual plans; monthly plans are not refundable.',
				file_name: 'product-handbook-v7.pdf',
				page: 14,
			},
			{
				text: 'The Pro plan includes single sign-on (SAML), audit logs and a 99.9% uptime SLA.',
				file_name: 'product-handbook-v7.pdf',
				page: 22,
			},
			{
				text: 'Data exports run nightly and are kept for 14 days before they are deleted.',
				file_name: 'product-handbook-v7.pdf',
				page: 31,
			},
		],
	},
	{
		id: 'idx-support-tickets',
		name: 'Support tickets',
		project_id: FIXTURE_IDS.defaultProjectId,
		description: 'Resolved support tickets from October 2026.',
		corpus: [
			{
				text: 'Ticket #4812: a customer hit a login loop after enabling SSO; it was resolved by clearing the IdP session cookie.',
				file_name: 'tickets-2026-10.csv',
				page: 1,
			},
			{
				text: 'Ticket #4907: CSV export times out for workspaces with more than 50,000 rows; the workaround is to export by date range.',
				file_name: 'tickets-2026-10.csv',
				page: 3,
			},
		],
	},
	{
		id: 'idx-onboarding-faq',
		name: 'Onboarding FAQ',
		project_id: FIXTURE_IDS.secondProjectId,
		description: 'Answers for new support agents.',
		corpus: [
			{
				text: 'New support agents shadow a senior agent for their first five shifts before taking tickets alone.',
				file_name: 'onboarding-faq.md',
				page: 1,
			},
			{
				text: 'Escalate any refund above €500 to a team lead before replying to the customer.',
				file_name: 'onboarding-faq.md',
				page: 2,
			},
		],
	},
	{
		id: 'idx-release-notes',
		name: 'Release notes',
		project_id: FIXTURE_IDS.secondProjectId,
		description: 'Product release notes.',
		corpus: [
			{
				text: 'Version 3.4 (2026-10-02) adds dark mode and fixes the calendar sync bug reported in 3.3.',
				file_name: 'release-notes.md',
				page: 1,
			},
		],
	},
	{
		id: 'idx-board-minutes',
		name: 'Board minutes',
		project_id: FIXTURE_IDS.forbiddenProjectId,
		description: 'Restricted.',
		corpus: [
			{
				text: 'Confidential: minutes of the October board meeting.',
				file_name: 'board-minutes-2026-10.pdf',
				page: 1,
			},
		],
	},
];
