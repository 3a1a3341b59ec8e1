/**
 * `@` completion in Markdown cells: typing `@` or `[@` and a few letters lists papers from
 * the index (the same search as the sidebar, typos welcome); choosing one writes its key
 * in the notebook's citation form. Code cells are left alone (decorators), and so is an
 * `@` inside a word (e-mail addresses).
 */
import { autocompletion, Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { EditorView } from '@codemirror/view';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';

import { nameText, search } from './api';

const MARKDOWN_MIME = 'text/x-ipythongfm';
/** `@` at the start, after a space, a bracket or a semicolon; then the letters typed so far. */
const TYPED = /(?:^|[\s([;])(\[?-?@)([^\s@\];,]*)$/;
const MINIMUM = 2;

/** The citation a choice writes, in the notebook's form; `bracketed` when `[@` was typed. */
export function citationText(format: string, key: string, bracketed: boolean, closed: boolean): string {
  if (format === 'myst') {
    return bracketed ? `{cite:p}\`${key}\`` : `{cite:t}\`${key}\``;
  }
  if (format === 'latex') {
    return bracketed ? `\\citep{${key}}` : `\\citet{${key}}`;
  }
  return bracketed ? `[@${key}${closed ? '' : ']'}` : `@${key}`;
}

function completer(format: () => string) {
  return async (context: CompletionContext): Promise<CompletionResult | null> => {
    const line = context.state.doc.lineAt(context.pos);
    const match = TYPED.exec(line.text.slice(0, context.pos - line.from));
    if (!match || match[2].length < MINIMUM) {
      return null;
    }
    const [, marker, query] = match;
    const from = context.pos - query.length - marker.length;
    const results = await search({ q: query, limit: 8, offset: 0 });
    if (context.aborted || !results.hits.length) {
      return null;
    }
    const bracketed = marker.startsWith('[');
    const closed = context.state.doc.sliceString(context.pos, context.pos + 1) === ']';
    const options: Completion[] = results.hits.map(hit => {
      const paper = hit.paper;
      const first = paper.authors.length ? nameText(paper.authors[0]) : '';
      return {
        label: paper.title,
        detail: [first + (paper.authors.length > 1 ? ' et al.' : ''), paper.year].filter(x => x).join(', '),
        info: paper.key,
        type: 'text',
        apply: (view: EditorView, _completion: Completion, start: number, end: number) => {
          const text = citationText(format(), paper.key, bracketed, closed);
          view.dispatch({
            changes: { from: start, to: end, insert: text },
            selection: { anchor: start + text.length + (bracketed && closed && format() === 'pandoc' ? 1 : 0) }
          });
        }
      };
    });
    return { from, to: context.pos, options, filter: false };
  };
}

/** Register the completion for the editors of Markdown cells. */
export function registerCitationCompletion(registry: IEditorExtensionRegistry, format: () => string): void {
  const extension = autocompletion({ override: [completer(format)], icons: false, activateOnTyping: true });
  registry.addExtension({
    name: 'jupyter-papers:citation-completion',
    factory: options =>
      options.model.mimeType === MARKDOWN_MIME ? EditorExtensionRegistry.createImmutableExtension(extension) : null
  });
}
