// CSV as RFC 4180 writes it (what spreadsheet exports produce): comma separated, fields in double
// quotes may hold commas, line breaks and doubled quotes, lines end in CRLF or LF. A malformed file
// is refused with the line where reading stopped.
import { badRequest } from '../errors.ts';

export interface CsvRecord {
  /** 1-based line of the file where the record starts (what a spreadsheet shows). */
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let afterQuote = false;

  const endField = () => {
    fields.push(field);
    field = '';
    afterQuote = false;
  };
  const endRecord = () => {
    endField();
    // blank lines are skipped rather than read as a record of one empty field
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
    fields = [];
  };

  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (quoted) {
      if (c === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field !== '' || afterQuote) throw badRequest(`CSV line ${line}: a quote may only open a field.`, 'invalid_csv');
      quoted = true;
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && input[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      if (afterQuote) throw badRequest(`CSV line ${line}: text after a closing quote; double a quote inside a quoted field ("").`, 'invalid_csv');
      field += c;
    }
  }
  if (quoted) throw badRequest(`CSV line ${start}: a quoted field is not closed.`, 'invalid_csv');
  if (field !== '' || fields.length > 0 || afterQuote) endRecord();
  return records;
}
