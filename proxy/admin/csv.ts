// CSV for the spend export: RFC 4180 quoting, and a guard against spreadsheet formula injection
// (a cell a spreadsheet would evaluate gets a leading quote). Pure; imports nothing.

/** One CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  // Model ids and session ids come from clients: "=HYPERLINK(...)" must stay text in Excel.
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: readonly (string | number | boolean | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
