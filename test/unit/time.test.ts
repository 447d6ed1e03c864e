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

describe('edges of both', () => {
	it('keeps the milliseconds of a picked time', () => {
		expect(iso(parseUserTime('2026-07-01T00:00:00.250', 'Europe/Berlin'))).toBe('2026-06-30T22:00:00.250Z');
	});

	it('reads a date without a time as midnight in the workflow timezone', () => {
		expect(iso(parseUserTime('2026-07-01', 'Europe/Berlin'))).toBe('2026-06-30T22:00:00.000Z');
	});

	it('takes an unknown timezone name as UTC rather than failing', () => {
		expect(iso(parseUserTime('2026-07-01T08:00:00', 'Mars/Olympus_Mons'))).toBe('2026-07-01T08:00:00.000Z');
	});

	it('recognises every form of zone: Z in either case, and offsets with or without a colon', () => {
		expect(iso(parseLlamaCloudTime('2026-04-22T12:34:41z'))).toBe('2026-04-22T12:34:41.000Z');
		expect(iso(parseLlamaCloudTime('2026-04-22T12:34:41-0130'))).toBe('2026-04-22T14:04:41.000Z');
		expect(iso(parseUserTime('2026-07-01T00:00:00+0200', 'America/New_York'))).toBe('2026-06-30T22:00:00.000Z');
	});
});
