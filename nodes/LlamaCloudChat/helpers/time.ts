const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/** LlamaCloud timestamps may lack a timezone (`2026-04-22T12:34:41.342245`); they are UTC. */
export function parseLlamaCloudTime(value: unknown): number {
	if (typeof value !== 'string') return Number.NaN;
	return Date.parse(HAS_ZONE.test(value) ? value : `${value}Z`);
}

/**
 * A date the user picked in n8n (`2026-11-01T00:00:00`, no offset) means that wall-clock time in
 * the workflow's timezone, as in n8n's own nodes; a value with an offset is taken as it is.
 */
export function parseUserTime(text: string, timeZone: string): number {
	if (HAS_ZONE.test(text)) return Date.parse(text);
	const asUtc = Date.parse(`${text}${text.includes('T') ? '' : 'T00:00:00'}Z`);
	// (Not a date: NaN, through zoneOffsetMs's catch as well.)
	return asUtc - zoneOffsetMs(asUtc, timeZone);
}

/** How far `timeZone`'s wall clock is ahead of UTC at (about) the instant `utcMs`. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
	let parts: Record<string, number>;
	try {
		parts = Object.fromEntries(
			new Intl.DateTimeFormat('en-US', {
				timeZone,
				hourCycle: 'h23',
				year: 'numeric',
				month: 'numeric',
				day: 'numeric',
				hour: 'numeric',
				minute: 'numeric',
				second: 'numeric',
			})
				.formatToParts(new Date(utcMs))
				// year, month, day, hour, minute, second (and the literals between them, never read)
				.map((part) => [part.type, Number(part.value)]),
		);
	} catch {
		return 0; // unknown timezone name (or no date): treat as UTC
	}
	const wallClock = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
	return wallClock - Math.floor(utcMs / 1000) * 1000;
}
