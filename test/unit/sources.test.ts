// The "Sources" list appended to a streamed answer, built from the turn's citations: the shapes of
// retrieved passages LlamaCloud returns (file and page at the top or in `metadata`, under a few
// names), repeats, passages without a file, and Markdown in file names. The engine tests in
// test/node/message/streaming.test.ts show it in the node's output; here every shape is pinned.

import type { IDataObject } from 'n8n-workflow';

import { sourcesMarkdown } from '../../nodes/LlamaCloudChat/turn/sources';
import type { Citation } from '../../nodes/LlamaCloudChat/turn/collectAnswer';

const cite = (...result: unknown[]): Citation => ({ call_id: 'call-1', tool: 'retrieve', arguments: {}, result: result as IDataObject[] });

describe('sourcesMarkdown', () => {
	it('names the file and page of each passage, under a bold heading', () => {
		expect(sourcesMarkdown([cite({ file_name: 'q3.pdf', page: 2 }, { file_name: 'q2.pdf', page: '7' })])).toBe(
			'**Sources**\n- q3.pdf, p. 2\n- q2.pdf, p. 7',
		);
	});

	it('reads the file and page wherever LlamaCloud puts them, preferring the top level', () => {
		const passages = [
			{ metadata: { file_name: 'meta.pdf', page_label: 'iv' } },
			{ document_name: 'doc.docx', page_number: 3 },
			{ metadata: { document_name: 'notes.md', page: 5 } },
			{ file_name: 'top.pdf', page: 1, metadata: { file_name: 'ignored.pdf', page: 9 } },
			{ file_name: 'whole.txt' },
		];
		expect(sourcesMarkdown([cite(...passages)])).toBe(
			'**Sources**\n- meta.pdf, p. iv\n- doc.docx, p. 3\n- notes.md, p. 5\n- top.pdf, p. 1\n- whole.txt',
		);
	});

	it('tidies white space, and skips blank names and pages that are not text or numbers', () => {
		const passages = [
			{ file_name: '  Board\n  report.pdf ', page: '  ', page_number: 4 },
			{ file_name: '   ', document_name: 'fallback.pdf', page: { label: 'x' }, metadata: { page: Number.NaN, page_label: '12' } },
		];
		expect(sourcesMarkdown([cite(...passages)])).toBe('**Sources**\n- Board report.pdf, p. 4\n- fallback.pdf, p. 12');
	});

	it('lists each file and page once, in the order the searches returned them, across citations', () => {
		const result = sourcesMarkdown([
			cite({ file_name: 'a.pdf', page: 1 }, { file_name: 'b.pdf', page: 1 }),
			cite({ file_name: 'a.pdf', page: 1 }, { file_name: 'a.pdf', page: 2 }),
		]);
		expect(result).toBe('**Sources**\n- a.pdf, p. 1\n- b.pdf, p. 1\n- a.pdf, p. 2');
	});

	it('passes over passages that name no file, and results that are not lists of objects', () => {
		const citations = [
			cite(null, 'text', 42, ['nested'], { text: 'no file here', page: 3 }, { file_name: 'kept.pdf' }),
			{ call_id: null, tool: null, arguments: null, result: 'a plain string result' },
			{ call_id: null, tool: null, arguments: null, result: { file_name: 'not-a-list.pdf' } },
		] as Citation[];
		expect(sourcesMarkdown(citations)).toBe('**Sources**\n- kept.pdf');
	});

	it('is empty when nothing names a file', () => {
		expect(sourcesMarkdown([])).toBe('');
		expect(sourcesMarkdown([cite({ text: 'passage', page: 1 })])).toBe('');
	});

	it('escapes Markdown in file names, so a name cannot format or link the list', () => {
		expect(sourcesMarkdown([cite({ file_name: 'a_*b*_[c](d)<e>`f`\\g.pdf' })])).toBe('**Sources**\n- a\\_\\*b\\*\\_\\[c\\](d)\\<e\\>\\`f\\`\\\\g.pdf');
	});

	it('shows at most 8 sources, then how many more there are', () => {
		const files = (count: number) => Array.from({ length: count }, (_, i) => ({ file_name: `f${i + 1}.pdf` }));
		expect(sourcesMarkdown([cite(...files(8))]).split('\n')).toEqual(['**Sources**', ...files(8).map((f) => `- ${f.file_name}`)]);
		expect(sourcesMarkdown([cite(...files(11))]).split('\n')).toEqual([
			'**Sources**',
			...files(8).map((f) => `- ${f.file_name}`),
			'- and 3 more',
		]);
	});
});
