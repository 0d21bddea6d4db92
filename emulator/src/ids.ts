// Salesforce record ids: 3-char key prefix, 15 case-sensitive characters, plus a 3-character
// case-insensitivity checksum for the 18-character form (Salesforce "Record IDs" help page).
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function checksum(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    out += SUFFIX_ALPHABET[bits];
  }
  return out;
}

export function makeId(prefix: string, n: number): string {
  let body = '';
  for (let i = 0; i < 7; i++) {
    body = BASE62[n % 62] + body;
    n = Math.floor(n / 62);
  }
  const id15 = prefix + '5g000' + body.slice(0, 7);
  return id15 + checksum(id15);
}

/** Accepts a 15- or 18-character id and returns the 18-character form, or null if malformed. */
export function normalizeId(id: string): string | null {
  if (/^[a-zA-Z0-9]{15}$/.test(id)) return id + checksum(id);
  if (/^[a-zA-Z0-9]{18}$/.test(id)) {
    const id15 = id.slice(0, 15);
    return checksum(id15).toUpperCase() === id.slice(15).toUpperCase() ? id15 + checksum(id15) : null;
  }
  return null;
}
