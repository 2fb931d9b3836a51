// SCIM filter expressions (RFC 7644 §3.4.2.2), parsed into a tree the repository turns into SQL.
// Supported: attribute operators eq ne co sw ew gt ge lt le pr, the logical operators and / or / not,
// and parentheses. Value paths in brackets (`emails[type eq "work"]`) are refused with
// scimType invalidFilter, as is anything else the grammar does not know: a filter is never guessed.
import { scimError } from './errors.ts';

export const COMPARE_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export type FilterValue = string | number | boolean | null;

export type Filter =
  | { kind: 'compare'; path: string; op: CompareOp; value: FilterValue }
  | { kind: 'present'; path: string }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter };

/** The longest filter accepted: a provisioning client sends a handful of terms, never a page of them. */
export const MAX_FILTER_LENGTH = 1000;

type Token =
  | { type: 'word'; text: string }
  | { type: 'string'; text: string }
  | { type: 'lparen' | 'rparen' | 'lbracket' | 'rbracket' };

const invalidFilter = (message: string) => scimError('invalidFilter', 400, message);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ type: c === '(' ? 'lparen' : c === ')' ? 'rparen' : c === '[' ? 'lbracket' : 'rbracket' });
      i++;
    } else if (c === '"') {
      // a JSON string (RFC 7644 §3.4.2.2: comparison values are JSON literals)
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw invalidFilter('The filter has a string without its closing quote.');
      try {
        tokens.push({ type: 'string', text: JSON.parse(input.slice(i, j + 1)) as string });
      } catch {
        throw invalidFilter('The filter has a string that is not a valid JSON string.');
      }
      i = j + 1;
    } else {
      const match = /^[^\s()[\]"]+/.exec(input.slice(i));
      if (!match) throw invalidFilter(`Unexpected character "${c}" in the filter.`);
      tokens.push({ type: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

const ATTR_PATH = /^(?:urn:[A-Za-z0-9.:_-]+:)?[A-Za-z][A-Za-z0-9_$-]*(?:\.[A-Za-z][A-Za-z0-9_$-]*)?$/;

function literal(token: Token | undefined): FilterValue {
  if (!token) throw invalidFilter('The filter ends where a comparison value was expected.');
  if (token.type === 'string') return token.text;
  if (token.type !== 'word') throw invalidFilter('A comparison value must be a string, a number, true, false or null.');
  if (token.text === 'true') return true;
  if (token.text === 'false') return false;
  if (token.text === 'null') return null;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token.text)) return Number(token.text);
  throw invalidFilter(`"${token.text}" is not a comparison value: quote strings ("…").`);
}

/** Parses a filter; throws a SCIM error with scimType invalidFilter (400) when it is not one. */
export function parseFilter(input: string): Filter {
  if (input.length > MAX_FILTER_LENGTH) throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters.`);
  const tokens = tokenize(input);
  let pos = 0;
  const peekWord = () => {
    const t = tokens[pos];
    return t?.type === 'word' ? t.text.toLowerCase() : undefined;
  };

  function orExpr(): Filter {
    let left = andExpr();
    while (peekWord() === 'or') {
      pos++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  }
  function andExpr(): Filter {
    let left = unary();
    while (peekWord() === 'and') {
      pos++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  }
  function unary(): Filter {
    if (peekWord() === 'not' && tokens[pos + 1]?.type === 'lparen') {
      pos++;
      return { kind: 'not', filter: group() };
    }
    if (tokens[pos]?.type === 'lparen') return group();
    return comparison();
  }
  function group(): Filter {
    pos++; // (
    const inner = orExpr();
    if (tokens[pos]?.type !== 'rparen') throw invalidFilter('The filter has a "(" without its ")".');
    pos++;
    return inner;
  }
  function comparison(): Filter {
    const attr = tokens[pos];
    if (!attr) throw invalidFilter('The filter ends where an attribute was expected.');
    if (attr.type !== 'word' || !ATTR_PATH.test(attr.text)) throw invalidFilter('The filter must start each comparison with an attribute name.');
    pos++;
    if (tokens[pos]?.type === 'lbracket') throw invalidFilter('Value filters in brackets (attr[…]) are not supported in a filter; compare a sub-attribute instead (emails.value eq "…").');
    const op = peekWord();
    if (op === undefined) throw invalidFilter(`The attribute "${attr.text}" must be followed by an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr).`);
    pos++;
    if (op === 'pr') return { kind: 'present', path: attr.text };
    if (!(COMPARE_OPS as readonly string[]).includes(op)) throw invalidFilter(`"${op}" is not a filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr).`);
    const value = literal(tokens[pos]);
    pos++;
    return { kind: 'compare', path: attr.text, op: op as CompareOp, value };
  }

  if (tokens.length === 0) throw invalidFilter('The filter is empty.');
  const filter = orExpr();
  if (pos < tokens.length) throw invalidFilter('The filter has text after a complete expression; join comparisons with "and" or "or".');
  return filter;
}
