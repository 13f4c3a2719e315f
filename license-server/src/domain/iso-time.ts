/** An instant for people and messages: 2027-06-30T12:00:00Z (UTC, no milliseconds). */
export const isoTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
