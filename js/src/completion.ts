/**
 * `@` completion in Markdown cells: typing `@` or `[@` and a few letters lists papers from
 * the index (the same search as the sidebar, typos welcome); choosing one writes its key
 * in the notebook's citation form. Code cells are left alone (decorators), and so is an
 * `@` inside a word (e-mail addresses).
 */
import { autocompletion, Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { EditorView } from '@codemirror/view';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';

import { addIdentifier, IOnlineSettings, IPaper, looksLikeIdentifier, nameText, onlineResults, search } from './api';
import { joinWithPrevious } from './placement';

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

/** A DOI, arXiv id, pmid:… or isbn:… the index lacks: the paper the web has for it, which
 * choosing adds to the index before its key is written. */
async function onlinePapers(query: string, online: () => IOnlineSettings): Promise<IPaper[]> {
  if (online().online === 'off' || !looksLikeIdentifier(query)) {
    return [];
  }
  try {
    return (await onlineResults(query, 1, online())).papers;
  } catch {
    return [];
  }
}

function completer(format: () => string, online: () => IOnlineSettings) {
  return async (context: CompletionContext): Promise<CompletionResult | null> => {
    const line = context.state.doc.lineAt(context.pos);
    const match = TYPED.exec(line.text.slice(0, context.pos - line.from));
    if (!match || match[2].length < MINIMUM) {
      return null;
    }
    const [, marker, query] = match;
    const from = context.pos - query.length - marker.length;
    const results = await search({ q: query, limit: 8, offset: 0 });
    const fromWeb = results.hits.length ? [] : await onlinePapers(query, online);
    if (context.aborted || !(results.hits.length || fromWeb.length)) {
      return null;
    }
    const bracketed = marker.startsWith('[');
    const closed = context.state.doc.sliceString(context.pos, context.pos + 1) === ']';
    const write = (view: EditorView, key: string, start: number, end: number) => {
      const joined = joinWithPrevious(view.state.doc.sliceString(line.from, start), citationText(format(), key, bracketed, false));
      if (joined) {
        const to = end + (bracketed && closed && format() === 'pandoc' ? 1 : 0);
        view.dispatch({
          changes: { from: line.from + joined.from, to, insert: joined.text },
          selection: { anchor: line.from + joined.cursor }
        });
        return;
      }
      const text = citationText(format(), key, bracketed, closed);
      view.dispatch({
        changes: { from: start, to: end, insert: text },
        selection: { anchor: start + text.length + (bracketed && closed && format() === 'pandoc' ? 1 : 0) }
      });
    };
    const option = (paper: IPaper, looked: boolean): Completion => {
      const first = paper.authors.length ? nameText(paper.authors[0]) : '';
      return {
        label: paper.title,
        detail: [first + (paper.authors.length > 1 ? ' et al.' : ''), paper.year, looked ? 'online' : '']
          .filter(x => x).join(', '),
        info: looked ? 'from the web: choosing it adds it to your index' : paper.key,
        type: 'text',
        apply: (view: EditorView, _completion: Completion, start: number, end: number) => {
          if (!looked) {
            write(view, paper.key, start, end);
            return;
          }
          void addIdentifier(query, online()).then(added => write(view, added.key, start, end));
        }
      };
    };
    const options = results.hits.map(hit => option(hit.paper, false)).concat(fromWeb.map(p => option(p, true)));
    return { from, to: context.pos, options, filter: false };
  };
}

/** Register the completion for the editors of Markdown cells. */
export function registerCitationCompletion(
  registry: IEditorExtensionRegistry,
  format: () => string,
  online: () => IOnlineSettings
): void {
  const extension = autocompletion({ override: [completer(format, online)], icons: false, activateOnTyping: true });
  registry.addExtension({
    name: 'jupyter-papers:citation-completion',
    factory: options =>
      options.model.mimeType === MARKDOWN_MIME ? EditorExtensionRegistry.createImmutableExtension(extension) : null
  });
}
