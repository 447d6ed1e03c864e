// Times: LlamaCloud's (UTC, often without a zone) and the ones users pick in n8n (workflow timezone).
import { parseLlamaCloudTime, parseUserTime } from '../../nodes/LlamaCloudChat/helpers/time';

const iso = (ms: number) => new Date(ms).toISOString();

describe('LlamaCloud timestamps', () => {
	it('reads a timestamp without a zone as UTC, with microseconds', () => {
		expect(iso(parseLlamaCloudTime('2026-04-22T12:34:41.342245'))).toBe('2026-04-22T12:34:41.342Z');
	});

	it('keeps an explicit zone', () => {
		expect(iso(parseLlamaCloudTime('2026-04-22T12:34:41+02:00'))).toBe('2026-04-22T10:34:41.000Z');
	});

	it('is not a number for anything but text', () => {
		expect(parseLlamaCloudTime(null)).toBeNaN();
	});
});

describe('dates picked in n8n', () => {
	it.each([
		['2026-11-01T00:00:00', 'Europe/Berlin', '2026-10-31T23:00:00.000Z'],
		['2026-07-01T00:00:00', 'Europe/Berlin', '2026-06-30T22:00:00.000Z'],
		['2026-07-01T00:00:00', 'America/New_York', '2026-07-01T04:00:00.000Z'],
		['2026-07-01', 'UTC', '2026-07-01T00:00:00.000Z'],
	])('reads %s as wall-clock time in %s', (text, zone, expected) => {
		expect(iso(parseUserTime(text, zone))).toBe(expected);
	});

	it('takes a value with an offset (as $now.minus(...).toISO() gives) as it is', () => {
		expect(iso(parseUserTime('2026-07-01T00:00:00.000-04:00', 'Europe/Berlin'))).toBe('2026-07-01T04:00:00.000Z');
	});

	it('is not a number for text that is no date', () => {
		expect(parseUserTime('next tuesday', 'UTC')).toBeNaN();
	});
});
