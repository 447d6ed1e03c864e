import type { IDataObject } from 'n8n-workflow';

/**
 * What the model gets from a tool call. The model pays for every character it reads, so: the answer
 * once (not again as `output`), the cited files and pages as a short list rather than the raw
 * citations, and the session only when it is kept (a deleted one is of no use). With Simplify off,
 * the full output, still without the `output` copy and without a deleted session.
 */
export function toolResult(json: IDataObject, simplify: boolean): IDataObject {
	const deleted = json.session_deleted === true;
	const sources = typeof json.sources_markdown === 'string' && json.sources_markdown !== '' ? json.sources_markdown : undefined;
	if (!simplify) {
		const full: IDataObject = { ...json, sources };
		delete full.output;
		delete full.sources_markdown;
		if (deleted) delete full.session_id;
		return full;
	}
	const result: IDataObject = { answer: json.answer };
	if (sources) result.sources = sources;
	if (json.skipped_index_ids !== undefined) result.skipped_index_ids = json.skipped_index_ids;
	if (!deleted) result.session_id = json.session_id;
	if (json.session_delete_error !== undefined) result.session_delete_error = json.session_delete_error;
	return result;
}
