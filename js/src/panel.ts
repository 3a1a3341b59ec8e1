/**
 * The sidebar panel: a search box with results as you type, keyboard navigation, and
 * actions that put citations and abstracts into the active notebook.
 */
import { Clipboard, Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import * as api from './api';
import { appendHighlighted } from './highlight';
import { IInlineTarget, inlineTarget, insertCellBelow, insertInline } from './notebook';
import { MeaningView } from './meaning';
import { SourcesView } from './sources';

export interface IPanelSettings {
  style: string;
  inlineFormat: string;
  limit: number;
  addToBibliography: boolean;
  bibliographyFile: string;
  bibliographyDialect: api.BibDialect;
  keepReferences: boolean;
  onlineLookups: string;
  contactEmail: string;
  proxy: string;
  meaning: api.Meaning;
}

export const DEFAULT_SETTINGS: IPanelSettings = {
  style: 'apa',
  inlineFormat: 'pandoc',
  limit: 20,
  addToBibliography: false,
  bibliographyFile: 'references.bib',
  bibliographyDialect: 'auto',
  keepReferences: false,
  onlineLookups: 'identifiers',
  contactEmail: '',
  proxy: '',
  meaning: 'auto'
};

function escaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A paper from the web shown as a hit: escaped, unmarked, with what adds it. */
function onlineHit(paper: api.IPaper): api.IHit {
  const abstract = paper.abstract.length > 300 ? paper.abstract.slice(0, 300) + ' …' : paper.abstract;
  return {
    paper,
    score: 0,
    highlights: { title: escaped(paper.title), abstract: escaped(abstract),
                  authors: escaped(paper.authors.map(api.nameText).join(', ')) },
    online: api.identifierOf(paper)
  };
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** The first three authors, and any author the query matched further down the list
 * ("Peng Lu" as fifth author), as highlighted HTML (escaped by the server). */
function shownAuthors(paper: api.IPaper, highlighted: string): string {
  const names = highlighted ? highlighted.split(', ') : paper.authors.map(api.nameText);
  if (names.length !== paper.authors.length) {  // a name with ", " inside: show the first three
    const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return paper.authors.slice(0, 3).map(name => escape(api.nameText(name))).join(', ') +
      (paper.authors.length > 3 ? ' et al.' : '');
  }
  const shown = names.filter((name, index) => index < 3 || name.includes('<mark>'));
  return shown.join(', ') + (shown.length < names.length ? ' et al.' : '');
}

/** A paper known only from its PDF has a guessed title: say so, and cite only if the user
 * still wants to. */
async function confirmGuessed(paper: api.IPaper): Promise<boolean> {
  if (!paper.extra?.guessed) {
    return true;
  }
  const answer = await showDialog({
    title: 'Cite a paper with guessed metadata?',
    body: `“${paper.title}” is known only from its PDF (${paper.extra.guessed}); its reference may be wrong. ` +
      'Add a record of the paper (with its DOI, or with this PDF in its file field) to replace the guess.',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Cite anyway' })]
  });
  return answer.button.accept;
}

export class PapersPanel extends Widget {
  constructor(private tracker: INotebookTracker) {
    super();
    this.id = 'jupyter-papers-panel';
    this.addClass('jp-papers-panel');
    this.title.caption = 'Search papers';

    const header = element('div', 'jp-papers-header');
    this.input = element('input', 'jp-papers-input');
    this.input.type = 'search';
    this.input.placeholder = 'Search papers (typos welcome)';
    this.input.title = 'Words, "a phrase", author:name, title:word, year:2020..2024, an arXiv id or a DOI';
    this.input.setAttribute('aria-label', 'Search papers');
    this.yearFrom = this.yearInput('from');
    this.yearTo = this.yearInput('to');
    const years = element('div', 'jp-papers-years', 'Years ');
    this.yearNote = element('span', 'jp-papers-year-note');
    years.append(this.yearFrom, document.createTextNode(' – '), this.yearTo, this.yearNote);
    this.status = element('div', 'jp-papers-status');
    this.suggestion = element('div', 'jp-papers-suggestion');
    this.error = element('div', 'jp-papers-error');
    this.error.setAttribute('role', 'alert');
    const references = element('button', 'jp-papers-references jp-mod-styled', 'References');
    references.title = "Update the notebook's References cell: every paper its Markdown cells cite";
    references.onclick = () => this.onUpdateReferences();
    this.collection = element('select', 'jp-papers-collection');
    this.collection.setAttribute('aria-label', 'Only papers of this Zotero collection');
    this.collection.hidden = true;
    this.collection.onchange = () => void this.search(false);
    this.scope = element('select', 'jp-papers-scope');
    this.scope.setAttribute('aria-label', 'Where to search');
    this.scope.title = "Where to look: also written in the query as in:fulltext or in:metadata";
    for (const [value, label] of [['all', 'Everywhere'], ['metadata', 'Titles & abstracts'], ['fulltext', 'Full text (PDFs)']]) {
      const option = element('option', '', label);
      option.value = value;
      this.scope.appendChild(option);
    }
    this.scope.onchange = () => void this.search(false);
    this.sources = new SourcesView(
      () => this.refresh(),
      message => this.showError(message),
      names => this.setCollections(names)
    );
    this.meaning = new MeaningView();
    header.append(this.input, years, this.scope, this.collection, references, this.status, this.meaning.node,
                  this.suggestion, this.error, this.sources.node);

    this.selectionBar = element('div', 'jp-papers-selection');
    this.selectionText = element('span', 'jp-papers-selection-count');
    const citeSelected = element('button', 'jp-papers-cite-selected jp-mod-styled', 'Cite together');
    citeSelected.title = 'One inline citation of the selected papers, at the cursor of the Markdown cell being edited';
    citeSelected.onclick = () => void this.guard(() => this.insertSelectedCitation());
    const clear = element('button', 'jp-papers-clear-selection jp-mod-styled', 'Clear');
    clear.onclick = () => this.setChosen([]);
    this.selectionBar.append(this.selectionText, citeSelected, clear);
    header.append(this.selectionBar);
    this.list = element('ul', 'jp-papers-results');
    this.list.setAttribute('role', 'listbox');
    this.more = element('button', 'jp-papers-more jp-mod-styled', 'More results');
    this.more.onclick = () => void this.search(true);
    this.node.append(header, this.list, this.more);

    this.input.addEventListener('input', () => this.scheduleSearch());
    this.node.addEventListener('keydown', event => this.onKeyDown(event));
    // Remember the Markdown cell being edited as focus moves here, before the notebook reacts.
    document.addEventListener('focusout', event => this.onFocusLeaving(event), true);
    this.node.addEventListener('mousedown', () => this.onFocusLeaving(null), true);
  }

  settings: IPanelSettings = { ...DEFAULT_SETTINGS };
  private chosen: api.IPaper[] = [];
  private inFlight = false;
  private pending = false;
  private yearNote: HTMLSpanElement;
  private selectionBar: HTMLDivElement;
  private selectionText: HTMLSpanElement;

  /** Search again, for instance after papers were indexed. */
  refresh(): void {
    void this.search(false);
  }

  /** Search for a passage the user picked in a notebook (Find papers for this sentence). */
  searchFor(text: string): void {
    this.input.value = text;
    this.scheduleSearch();
    this.focusInput();
  }

  focusInput(): void {
    this.input.focus();
    this.input.select();
  }

  protected onAfterAttach(): void {
    if (!this.results) {
      void this.search(false);
    }
    if (this.isVisible) {
      this.sources.start();
      this.meaning.start();
    }
  }

  protected onAfterShow(): void {
    this.sources.start();
    this.meaning.start();
  }

  protected onAfterHide(): void {
    this.sources.stop();
    this.meaning.stop();
  }

  protected onBeforeDetach(): void {
    this.sources.stop();
    this.meaning.stop();
  }

  protected onActivateRequest(): void {
    this.focusInput();
  }

  private yearInput(label: string): HTMLInputElement {
    const input = element('input', 'jp-papers-year');
    input.type = 'number';
    input.min = '1000';
    input.max = '2999';
    input.placeholder = label;
    input.setAttribute('aria-label', `year ${label}`);
    input.addEventListener('input', () => this.scheduleSearch());
    return input;
  }

  /** Search as soon as a key arrives when no search is on its way; keys typed meanwhile
   * are coalesced into one search sent when the answer arrives. No fixed wait. */
  private scheduleSearch(): void {
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    void this.search(false);
  }

  private async search(more: boolean): Promise<void> {
    this.inFlight = true;
    try {
      await this.runSearch(more);
    } finally {
      this.inFlight = false;
    }
    if (this.pending) {
      this.pending = false;
      void this.search(false);
    }
  }

  private async runSearch(more: boolean): Promise<void> {
    const request = ++this.requests;
    const typed = this.input.value;
    const offset = more && this.results ? this.hits.length : 0;
    const year = (input: HTMLInputElement) => (input.value ? Number(input.value) : undefined);
    let results: api.IResults;
    try {
      const collection = this.collection.value;
      results = await api.search({
        q: collection ? `${typed} collection:"${collection.replace(/"/g, '')}"` : typed,
        limit: this.settings.limit,
        offset,
        year_from: year(this.yearFrom),
        year_to: year(this.yearTo),
        scope: this.scope.value as api.Scope,
        meaning: this.settings.meaning
      });
    } catch (error) {
      if (request === this.requests) {
        this.status.textContent = `Search failed: ${(error as Error).message}`;
      }
      return;
    }
    if (request !== this.requests) {
      return; // a newer query is on its way: drop this stale answer
    }
    this.beforeRelated = null;
    this.results = results;
    this.hits = more ? this.hits.concat(results.hits) : results.hits;
    if (!more) {
      this.online = [];
      this.onlineError = '';
      this.selected = this.hits.length ? 0 : -1;
    }
    this.render();
    this.list.dataset.query = typed;  // the text the list answers, as typed (benchmarks/key_to_results.py)
    if (!more && this.asksOnline(typed, results.hits.length)) {
      void this.searchOnline(typed, request);
    }
  }

  /** Whether the web is asked for this text: an identifier (unless lookups are off), or,
   * with online search on, a query of two words or more that found less than a page. */
  private asksOnline(typed: string, found: number): boolean {
    const mode = this.settings.onlineLookups;
    if (mode === 'off' || !typed.trim() || this.collection.value || this.scope.value === 'fulltext') {
      return false;
    }
    return api.looksLikeIdentifier(typed) ||
      (mode === 'search' && found < this.settings.limit && typed.trim().split(/\s+/).length >= 2);
  }

  onlineSettings(): api.IOnlineSettings {
    return { online: this.settings.onlineLookups, email: this.settings.contactEmail, proxy: this.settings.proxy };
  }

  /** The web's papers for the text, shown below the index's, marked; dropped when
   * another search started meanwhile. */
  private async searchOnline(typed: string, request: number): Promise<void> {
    this.onlineStatus = 'Asking the web…';
    this.render();
    let answer: { papers: api.IPaper[]; error: string | null };
    try {
      answer = await api.onlineResults(typed, this.settings.limit, this.onlineSettings());
    } catch (error) {
      answer = { papers: [], error: (error as Error).message };
    }
    if (request !== this.requests) {
      return;
    }
    this.online = answer.papers.map(onlineHit);
    this.onlineError = answer.error ?? '';
    this.onlineStatus = '';
    if (this.selected < 0 && this.online.length) {
      this.selected = 0;
    }
    this.render();
  }

  private shownHits(): api.IHit[] {
    return this.hits.concat(this.online);
  }

  /** The index's paper for a hit: a paper from the web is added first (looked up). */
  private async resolved(hit: api.IHit): Promise<api.IPaper> {
    if (!hit.online) {
      return hit.paper;
    }
    const paper = await api.addIdentifier(hit.online, this.onlineSettings());
    this.refresh();
    return paper;
  }

  private render(): void {
    const results = this.results!;
    const from = Number(this.yearFrom.value), to = Number(this.yearTo.value);
    this.yearNote.textContent = from && to && from > to ? `(read as ${to}–${from})` : '';
    this.status.textContent = this.hits.length
      ? `${this.hits.length} of ${results.total.toLocaleString('en')}${results.total_exact ? '' : '+'}` +
        (results.truncated ? ' (search cut short)' : '') +
        (results.meaning ? ` · ${api.meaningLabel(results)}` : '')
      : results.query.trim()
        ? 'No papers found'
        : 'No papers in the index';
    this.suggestion.textContent = '';
    if (results.suggestion) {
      const link = element('a', 'jp-papers-suggestion-link', results.suggestion);
      link.href = '#';
      link.onclick = event => {
        event.preventDefault();
        this.input.value = results.suggestion!;
        void this.search(false);
      };
      this.suggestion.append('Did you mean ', link, '?');
    }
    this.list.textContent = '';
    this.hits.forEach((hit, index) => this.list.appendChild(this.renderHit(hit, index)));
    if (this.online.length || this.onlineError || this.onlineStatus) {
      const heading = element('li', 'jp-papers-online-heading',
        this.onlineStatus || (this.online.length ? 'From the web (not in your index yet)' : ''));
      if (this.onlineError) {
        heading.append(element('span', 'jp-papers-online-error', `Online lookup: ${this.onlineError}`));
      }
      this.list.appendChild(heading);
      this.online.forEach((hit, index) => this.list.appendChild(this.renderHit(hit, this.hits.length + index)));
    }
    const more = this.hits.length < results.total || !results.total_exact;
    this.more.style.display = more ? '' : 'none';
  }

  private renderHit(hit: api.IHit, index: number): HTMLLIElement {
    const paper = hit.paper;
    const item = element('li', 'jp-papers-hit');
    item.setAttribute('role', 'option');
    item.dataset.id = paper.id;
    item.classList.toggle('jp-papers-online', Boolean(hit.online));
    item.classList.toggle('jp-mod-selected', index === this.selected);
    const title = element('div', 'jp-papers-title');
    // a paper without a title (a @misc with only an author) is listed as "untitled"
    appendHighlighted(title, hit.highlights.title || (paper.title ? '' : 'untitled'));
    const meta = element('div', 'jp-papers-meta');
    appendHighlighted(meta, shownAuthors(paper, hit.highlights.authors ?? ''));
    const rest = [paper.year, paper.venue].filter(x => x).join(' · ');
    if (rest) {
      meta.append(document.createTextNode((paper.authors.length ? ' · ' : '') + rest));
    }
    if (hit.online) {
      const badge = element('span', 'jp-papers-online-badge', 'online');
      badge.title = `Found on the web (${hit.online}): citing it adds it to your index`;
      meta.prepend(badge, ' ');
    }
    if (paper.extra?.guessed) {
      const badge = element('span', 'jp-papers-guessed', 'guessed title');
      badge.title = `Guessed from its PDF (${paper.extra.guessed}): add a record of the paper to replace it`;
      meta.append(' ', badge);
    }
    const snippet = element('div', 'jp-papers-snippet');
    appendHighlighted(snippet, hit.highlights.abstract ?? '');
    const pages = element('div', 'jp-papers-pages');
    for (const page of hit.pages ?? []) {
      const line = element('div', 'jp-papers-page');
      const where = element('button', 'jp-papers-page-link', page.page ? `p. ${page.page}` : 'in the text');
      where.title = page.page ? `Open the PDF at page ${page.page}` : 'Open the PDF';
      where.dataset.page = String(page.page);
      where.onclick = event => {
        event.stopPropagation();
        void this.guard(() => this.onOpenPdf(paper, page.page || undefined));
      };
      const text = element('span', 'jp-papers-page-snippet');
      appendHighlighted(text, page.snippet);
      line.append(where, ': ', text);
      pages.appendChild(line);
    }
    const actions = element('div', 'jp-papers-actions');
    const button = (label: string, action: string, run: () => Promise<void>) => {
      const b = element('button', 'jp-papers-action jp-mod-styled', label);
      b.dataset.action = action;
      b.onclick = event => {
        event.stopPropagation();
        void this.guard(run);
      };
      actions.appendChild(b);
    };
    button('Cite', 'cite', async () => this.insertCitation(await this.resolved(hit)));
    button('Abstract', 'abstract', async () => this.insertAbstract(await this.resolved(hit)));
    button('Inline', 'inline', async () => this.insertInlineCitation(await this.resolved(hit)));
    if (hit.online) {
      button('Add', 'add', async () => void (await this.resolved(hit)));
    } else {
      button('BibTeX', 'bibtex', () => this.copyBibtex(paper));
      button('Related', 'related', () => this.showRelated(paper));
    }
    if (paper.extra?.pdf && !hit.online) {
      button('PDF', 'pdf', () => this.onOpenPdf(paper));
    }
    const choose = element('input', 'jp-papers-choose');
    choose.type = 'checkbox';
    choose.checked = this.chosen.some(p => p.id === paper.id);
    choose.setAttribute('aria-label', 'select to cite together');
    choose.onclick = event => {
      event.stopPropagation();
      this.setChosen(choose.checked ? [...this.chosen, paper] : this.chosen.filter(p => p.id !== paper.id));
    };
    if (!hit.online) {
      title.prepend(choose);
    }
    item.append(title, meta, snippet, pages, actions);
    item.onclick = () => this.select(index);
    item.ondblclick = () => void this.guard(async () => this.defaultAction(await this.resolved(hit)));
    return item;
  }

  /** The papers ticked to be cited together, in the order they were ticked. */
  private setChosen(papers: api.IPaper[]): void {
    this.chosen = papers;
    this.selectionText.textContent = `${papers.length} selected`;
    this.selectionBar.classList.toggle('jp-mod-active', papers.length > 0);
    const ids = new Set(papers.map(p => p.id));
    this.list.querySelectorAll<HTMLInputElement>('.jp-papers-choose').forEach(box => {
      box.checked = ids.has((box.closest('.jp-papers-hit') as HTMLElement | null)?.dataset.id ?? '');
    });
  }

  async insertSelectedCitation(): Promise<void> {
    const target = this.inline ?? inlineTarget(this.tracker.currentWidget);
    if (!target) {
      throw new Error('click into a Markdown cell you are editing, then choose Cite together');
    }
    for (const paper of this.chosen) {
      if (!(await confirmGuessed(paper))) {
        return;
      }
    }
    for (const paper of this.chosen) {
      await this.keyAfterRecording(paper, target.panel);
    }
    const inline = await api.inlineCitation(this.chosen.map(p => p.id), this.settings.inlineFormat);
    target.offset = insertInline(target, inline.text);
    this.setChosen([]);
    if (this.settings.keepReferences) {
      this.onUpdateReferences();
    }
  }

  private select(index: number): void {
    if (index < 0 || index >= this.shownHits().length) {
      return;
    }
    this.selected = index;
    this.list.querySelectorAll('.jp-papers-hit').forEach((node, i) => node.classList.toggle('jp-mod-selected', i === index));
    this.list.querySelectorAll('.jp-papers-hit')[index]?.scrollIntoView({ block: 'nearest' });
  }

  private onKeyDown(event: KeyboardEvent): void {
    const target = event.target;
    if (target instanceof HTMLInputElement && target !== this.input) {
      return;
    }
    const control = target instanceof HTMLButtonElement || target instanceof HTMLSelectElement ||
      target instanceof HTMLAnchorElement;
    if (control && event.key !== 'Escape' && !(event.key === 'Backspace' && this.beforeRelated)) {
      return;  // a focused button, link or picker handles its own keys: Enter and Space press it
    }
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      this.select(this.selected + (event.key === 'ArrowDown' ? 1 : -1));
    } else if (event.key === 'Enter' && this.shownHits()[this.selected]) {
      event.preventDefault();
      const hit = this.shownHits()[this.selected];
      void this.guard(async () => this.defaultAction(await this.resolved(hit)));
    } else if (event.key === 'Escape') {
      event.preventDefault();
      this.returnToNotebook();
    } else if (event.key === 'Backspace' && this.beforeRelated && event.target !== this.input) {
      event.preventDefault();
      this.backFromRelated();
    }
  }

  private returnToNotebook(): void {
    const panel = this.tracker.currentWidget;
    if (panel) {
      panel.activate();
      panel.content.activeCell?.node.focus();
    }
  }

  private onFocusLeaving(event: FocusEvent | null): void {
    const from = event ? (event.target as Node) : document.activeElement;
    const to = event ? (event.relatedTarget as Node | null) : this.node;
    // a node the results just replaced is no longer connected: focus is still within the panel
    const fromOutside = !from || (from.isConnected && !this.node.contains(from));
    if (to && this.node.contains(to) && fromOutside) {
      this.inline = inlineTarget(this.tracker.currentWidget);
    }
  }

  /** Run an action; what went wrong is shown whole in the panel, where the user is
   * looking (a toast cuts a long message), until dismissed or the next action. */
  private async guard(run: () => Promise<void>): Promise<void> {
    this.showError('');
    try {
      await run();
    } catch (error) {
      this.showError((error as Error).message);
    }
  }

  private showError(message: string): void {
    this.error.textContent = '';
    this.error.classList.toggle('jp-mod-active', message !== '');
    if (message) {
      const dismiss = element('button', 'jp-papers-error-dismiss jp-mod-styled', '×');
      dismiss.title = 'Dismiss';
      dismiss.setAttribute('aria-label', 'Dismiss');
      dismiss.onclick = () => this.showError('');
      this.error.append(element('span', 'jp-papers-error-text', message), dismiss);
    }
  }

  private notebook(): NotebookPanel {
    const panel = this.tracker.currentWidget;
    if (!panel) {
      throw new Error('open a notebook first');
    }
    return panel;
  }

  private async defaultAction(paper: api.IPaper): Promise<void> {
    if (this.inline) {
      await this.insertInlineCitation(paper);
    } else {
      await this.insertCitation(paper);
    }
  }

  /** Add the paper to the .bib file beside the notebook when the setting asks for it;
   * returns the key it is cited by there (the file may already use another). */
  private async keyAfterRecording(paper: api.IPaper, panel: NotebookPanel): Promise<string> {
    if (!this.settings.addToBibliography) {
      return paper.key;
    }
    const path = PathExt.join(PathExt.dirname(panel.context.path), this.settings.bibliographyFile);
    const result = await api.addToBibliography(
      [paper.id],
      path,
      this.settings.bibliographyDialect
    );
    return result.keys[paper.id] ?? paper.key;
  }

  async insertCitation(paper: api.IPaper): Promise<void> {
    const panel = this.notebook();
    if (!(await confirmGuessed(paper))) {
      return;
    }
    await this.keyAfterRecording(paper, panel);
    const citation = await api.citation(paper.id, this.settings.style, 'markdown');
    insertCellBelow(panel.content, citation.text, 'markdown', null, true);
  }

  async insertAbstract(paper: api.IPaper): Promise<void> {
    const panel = this.notebook();
    const cell = await api.abstractCell(paper.id);
    insertCellBelow(panel.content, cell.markdown, 'markdown', null, true);
  }

  async insertInlineCitation(paper: api.IPaper): Promise<void> {
    const target = this.inline ?? inlineTarget(this.tracker.currentWidget);
    if (!target) {
      throw new Error('click into a Markdown cell you are editing, then choose Inline');
    }
    if (!(await confirmGuessed(paper))) {
      return;
    }
    const key = await this.keyAfterRecording(paper, target.panel);
    const inline = await api.citation(paper.id, this.settings.inlineFormat, 'text');
    const text = key !== paper.key ? inline.text.split(paper.key).join(key) : inline.text;
    target.offset = insertInline(target, text);
    if (this.settings.keepReferences) {
      this.onUpdateReferences();
    }
  }

  /** The collection picker's choices: all papers, or one collection's. */
  private setCollections(names: string[]): void {
    const chosen = this.collection.value;
    const all = element('option', '', 'All collections');
    all.value = '';
    this.collection.replaceChildren(all, ...names.map(name => {
      const option = element('option', '', name);
      option.value = name;
      return option;
    }));
    this.collection.value = names.includes(chosen) ? chosen : '';
    this.collection.hidden = names.length === 0;
    if (chosen && !names.includes(chosen)) {
      void this.search(false);
    }
  }

  /** Set by the plugin: opens a paper's PDF attachment in JupyterLab's PDF viewer (at a page). */
  onOpenPdf: (paper: api.IPaper, page?: number) => Promise<void> = async () => undefined;

  /** Set by the plugin: runs the "update the notebook's references" command. */
  onUpdateReferences: () => void = () => undefined;

  private async copyBibtex(paper: api.IPaper): Promise<void> {
    const citation = await api.citation(paper.id, 'bibtex', 'text');
    Clipboard.copyToSystem(citation.text);
    Notification.success(`Copied BibTeX for ${citation.key}`, { autoClose: 2500 });
  }

  /** Papers like this one, in place of the results; "Back to results" (or Backspace in
   * the list) brings the results back as they were, without searching again. */
  private async showRelated(paper: api.IPaper): Promise<void> {
    const results = await api.related(paper.id, this.settings.limit, this.settings.meaning);
    this.requests++;
    if (!this.beforeRelated && this.results) {
      this.beforeRelated = { results: this.results, hits: this.hits, selected: this.selected };
    }
    this.results = { ...results, query: `related to ${paper.title}` };
    this.hits = results.hits;
    this.online = [];
    this.selected = this.hits.length ? 0 : -1;
    this.render();
    this.status.textContent = `${this.hits.length} papers related to “${paper.title}” ` +
      (results.meaning ? `(${api.meaningLabel(results)}) ` : '');
    if (this.beforeRelated) {
      const back = element('button', 'jp-papers-back jp-mod-styled', '← Back to results');
      back.onclick = () => this.backFromRelated();
      this.status.append(back);
      back.focus();  // the keyboard stays in the panel: Enter or Backspace goes back
    }
  }

  private backFromRelated(): void {
    if (!this.beforeRelated) {
      return;
    }
    ({ results: this.results, hits: this.hits, selected: this.selected } = this.beforeRelated);
    this.beforeRelated = null;
    this.requests++;
    this.render();
    this.select(this.selected);
    this.input.focus();
  }

  private sources: SourcesView;
  private meaning: MeaningView;
  private collection: HTMLSelectElement;
  private scope: HTMLSelectElement;
  private input: HTMLInputElement;
  private yearFrom: HTMLInputElement;
  private yearTo: HTMLInputElement;
  private status: HTMLDivElement;
  private suggestion: HTMLDivElement;
  private error: HTMLDivElement;
  private beforeRelated: { results: api.IResults; hits: api.IHit[]; selected: number } | null = null;
  private list: HTMLUListElement;
  private more: HTMLButtonElement;
  private results: api.IResults | null = null;
  private hits: api.IHit[] = [];
  private online: api.IHit[] = [];
  private onlineError = '';
  private onlineStatus = '';
  private selected = -1;
  private requests = 0;
  private inline: IInlineTarget | null = null;
}
