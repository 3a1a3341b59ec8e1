/**
 * Where an inline citation goes in a sentence, as writers and pandoc's manual place them:
 * after the word the cursor is in, with a space before it (`training [@key]`), before the
 * punctuation that ends the clause when the cursor is just past it (`training [@key].`),
 * and into a citation of the same form that is already there (`[@a; @b]`,
 * {cite:p}`a,b`, `\citep{a,b}`) instead of beside it.
 */

/** One citation form: how to find one in text, and how to add keys to it. */
interface IForm {
  /** A whole citation of this form, its keys in group 1 (the `g` flag: every one is found). */
  pattern: RegExp;
  /** The keys of a citation of this form (without `@`). */
  keys(inner: string): string[];
  /** The citation `found` with `keys` added. */
  join(found: RegExpExecArray, keys: string[]): string;
}

const PANDOC: IForm = {
  pattern: /\[((?:-?@[^\s\];,]+[^\];]*;\s*)*-?@[^\s\];,]+[^\]]*)\]/g,
  keys: inner => (inner.match(/-?@[^\s\];,]+/g) ?? []).map(key => key.replace(/^-?@/, '')),
  join: (found, keys) => `[${found[1]}${keys.map(k => `; @${k}`).join('')}]`
};

function commaListForm(open: string, close: string): IForm {
  const escaped = (text: string) => text.replace(/[\\{}()[\]^$.*+?|`]/g, '\\$&');
  return {
    pattern: new RegExp(`${escaped(open)}([^${escaped(close)}]*)${escaped(close)}`, 'g'),
    keys: inner => inner.split(',').map(k => k.trim()).filter(k => k),
    join: (found, keys) => `${open}${[found[1], ...keys].join(',')}${close}`
  };
}

/** The form of a citation text, if it is one we can join. */
function formOf(citation: string): IForm | null {
  for (const form of [
    PANDOC,
    commaListForm('{cite:p}`', '`'),
    commaListForm('{cite:t}`', '`'),
    commaListForm('\\citep{', '}'),
    commaListForm('\\citet{', '}'),
    commaListForm('\\cite{', '}')
  ]) {
    form.pattern.lastIndex = 0;
    const found = form.pattern.exec(citation);
    if (found && found.index === 0 && found[0].length === citation.length) {
      return form;
    }
  }
  return null;
}

const WORD = /[\p{L}\p{N}_'’-]/u;
const CLAUSE_END = /[.,;:!?]/;

/** What to write where: replace source[from, to) by `text`; the cursor goes to `cursor`. */
export interface IPlacement {
  from: number;
  to: number;
  text: string;
  cursor: number;
}

/** Where `citation` goes when the cursor is at `offset` of `source`. */
export function placeCitation(source: string, offset: number, citation: string): IPlacement {
  let at = Math.max(0, Math.min(offset, source.length));
  // in a word: to its end
  while (at < source.length && at > 0 && WORD.test(source[at - 1]) && WORD.test(source[at])) {
    at++;
  }
  // past the spaces after a word (they are replaced), or past the punctuation that ends its
  // clause (the citation goes before it): back to the word
  let back = at;
  while (back > 0 && source[back - 1] === ' ') {
    back--;
  }
  let replaced = at;
  if (back > 0 && CLAUSE_END.test(source[back - 1]) && (back === source.length || /\s/.test(source[back]))) {
    back--;
    replaced = back;
  }
  if (back === 0 || !WORD.test(source[back - 1])) {
    back = replaced = at;
  }
  const form = formOf(citation);
  const joined = form ? joinNeighbour(source, back, citation, form) : null;
  if (joined) {
    return joined;
  }
  const before = back > 0 && !/\s/.test(source[back - 1]) ? ' ' : '';
  const after = replaced < source.length && WORD.test(source[replaced]) ? ' ' : '';
  const text = before + citation + after;
  return { from: back, to: replaced, text, cursor: back + before.length + citation.length };
}

/** The citation of the same form that ends just before `at` (spaces between), or starts
 * just after it, with the new keys added; null when there is none. */
function joinNeighbour(source: string, at: number, citation: string, form: IForm): IPlacement | null {
  form.pattern.lastIndex = 0;
  const added = form.keys(form.pattern.exec(citation)?.[1] ?? '');
  form.pattern.lastIndex = 0;
  for (let found = form.pattern.exec(source); found; found = form.pattern.exec(source)) {
    const start = found.index;
    const end = start + found[0].length;
    const touching = source.slice(end, at).trim() === '' && end <= at;
    const following = start >= at && source.slice(at, start).trim() === '';
    if (touching || following) {
      const present = form.keys(found[1]);
      const keys = added.filter(key => !present.includes(key));
      const glued = start > 0 && WORD.test(source[start - 1]) ? ' ' : '';
      const text = glued + (keys.length ? form.join(found, keys) : found[0]);
      return { from: start, to: end, text, cursor: start + text.length };
    }
    if (start > at) {
      break;
    }
  }
  return null;
}

/** The citation of the same form just before the end of `before` (spaces between) with the
 * keys of `citation` added, or null: completing `[@` typed after `[@a]` makes `[@a; @b]`. */
export function joinWithPrevious(before: string, citation: string): IPlacement | null {
  const form = formOf(citation);
  return form ? joinNeighbour(before, before.length, citation, form) : null;
}
