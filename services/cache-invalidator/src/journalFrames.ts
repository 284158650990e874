import { crc32 } from 'node:zlib';

/**
 * A journal record on disk: one line, `<crc32 of the JSON, 8 hex digits> <JSON>\n`. JSON never
 * holds a raw newline, so the newline ends the record: a record is whole only with it, and a
 * crash or a short write can only leave a line without one. The checksum catches what a newline
 * cannot: a line whose middle never reached the disk (a lost page reads back as zeros).
 */
const NEWLINE = 0x0a;
const HEADER_BYTES = 9;
const HEX = /^[0-9a-f]{8}$/;

/** Why a line was not taken as a record. */
export type SkipReason = 'torn' | 'checksum' | 'unreadable';

/** Bytes of the file that were not a whole record: reported, never guessed at. */
export interface SkippedRecord {
  offset: number;
  bytes: number;
  reason: SkipReason;
}

export function encodeJournalFrame(record: unknown): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/**
 * Every whole record in `data`, in order; lines that are not (no newline at the end of the file,
 * a checksum mismatch, unparseable JSON) are skipped and reported. `end` is where the last
 * newline-terminated line ends: the next record starts there. Empty lines are padding, not records.
 * Lines starting with `{` are records written before frames had a checksum, read as plain JSON.
 */
export function readJournalFrames<R>(data: Buffer): { records: R[]; skipped: SkippedRecord[]; end: number } {
  const records: R[] = [];
  const skipped: SkippedRecord[] = [];
  let start = 0;
  for (let newline = data.indexOf(NEWLINE, start); newline !== -1; newline = data.indexOf(NEWLINE, start)) {
    const line = data.subarray(start, newline);
    if (line.length > 0) {
      const decoded = decodeLine<R>(line);
      if (decoded.ok) records.push(decoded.record);
      else skipped.push({ offset: start, bytes: line.length + 1, reason: decoded.reason });
    }
    start = newline + 1;
  }
  if (start < data.length) skipped.push({ offset: start, bytes: data.length - start, reason: 'torn' });
  return { records, skipped, end: start };
}

function decodeLine<R>(line: Buffer): { ok: true; record: R } | { ok: false; reason: SkipReason } {
  let json: Buffer;
  if (line[0] === 0x7b) {
    json = line;
  } else {
    const header = line.toString('latin1', 0, HEADER_BYTES);
    if (line.length <= HEADER_BYTES || header[8] !== ' ' || !HEX.test(header.slice(0, 8))) {
      return { ok: false, reason: 'unreadable' };
    }
    json = line.subarray(HEADER_BYTES);
    if (crc32(json) !== Number.parseInt(header.slice(0, 8), 16)) return { ok: false, reason: 'checksum' };
  }
  try {
    return { ok: true, record: JSON.parse(json.toString('utf8')) as R };
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
}
