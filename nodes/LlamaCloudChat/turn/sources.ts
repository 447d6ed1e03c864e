import type { IDataObject } from 'n8n-workflow';

import type { Citation } from './collectAnswer';

const MAX_SOURCES = 8;

function text(value: unknown): string | undefined {
	if (typeof value === 'string' && value.trim() !== '') return value.trim().replace(/\s+/g, ' ');
	if (Number.isFinite(value)) return String(value);
	return undefined;
}

/** "file.pdf, p. 2" for a retrieved passage; LlamaCloud names the file in a few ways. */
function sourceOf(passage: IDataObject): string | undefined {
	const metadata = (passage.metadata && typeof passage.metadata === 'object' ? passage.metadata : {}) as IDataObject;
	const file = text(passage.file_name) ?? text(metadata.file_name) ?? text(passage.document_name) ?? text(metadata.document_name);
	if (!file) return undefined;
	const page = text(passage.page) ?? text(passage.page_number) ?? text(metadata.page) ?? text(metadata.page_label);
	return page ? `${file}, p. ${page}` : file;
}

/**
 * A short Markdown list of the files and pages the answer's searches returned, in order, without
 * repeats: `**Sources**` and one `- file, p. N` line each (at most 8, then "and N more").
 * Empty when the turn cited nothing that names a file.
 */
export function sourcesMarkdown(citations: Citation[]): string {
	const sources: string[] = [];
	for (const citation of citations) {
		if (!Array.isArray(citation.result)) continue;
		for (const passage of citation.result as unknown[]) {
			// Anything but null has fields to read (text and lists just have none of ours).
			if (!passage) continue;
			const source = sourceOf(passage as IDataObject);
			if (source && !sources.includes(source)) sources.push(source);
		}
	}
	if (sources.length === 0) return '';
	const shown = sources.slice(0, MAX_SOURCES).map((source) => `- ${source.replace(/([\\`*_[\]<>])/g, '\\$1')}`);
	if (sources.length > MAX_SOURCES) shown.push(`- and ${sources.length - MAX_SOURCES} more`);
	return ['**Sources**', ...shown].join('\n');
}
