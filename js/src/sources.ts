/**
 * The sidebar's Sources section: each registered source with its state ("zotero: 1,204
 * papers, synced 10 s ago"), what went wrong (file:line), a Sync button, and a way to add
 * a source (a .bib / .json / .jsonl file, a folder, or the Zotero library). The server
 * syncs sources as their files change; this view asks for their state every few seconds
 * while the sidebar shows, and when a sync changed them the results are searched again,
 * so an entry saved in a .bib file appears without a click.
 */
import * as api from './api';
import { PollingView } from './polling';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** "just now", "10 s ago", "5 min ago", "3 h ago", or the date. */
export function ago(seconds: number | null, now = Date.now() / 1000): string {
  if (!seconds) {
    return 'never synced';
  }
  const past = Math.max(0, now - seconds);
  if (past < 5) {
    return 'synced just now';
  }
  if (past < 90) {
    return `synced ${Math.round(past)} s ago`;
  }
  if (past < 5400) {
    return `synced ${Math.round(past / 60)} min ago`;
  }
  if (past < 86400) {
    return `synced ${Math.round(past / 3600)} h ago`;
  }
  return `synced ${new Date(seconds * 1000).toLocaleDateString()}`;
}

export class SourcesView extends PollingView {
  readonly node: HTMLDetailsElement;

  /** ``onChanged``: a sync changed the index (search again); ``onError``: say it in the
   * panel; ``onCollections``: the collections the sources have (for the panel's picker). */
  constructor(
    private onChanged: () => void,
    private onError: (message: string) => void,
    private onCollections: (names: string[]) => void
  ) {
    super();
    this.node = element('details', 'jp-papers-sources');
    this.summary = element('summary', 'jp-papers-sources-summary', 'Sources');
    this.list = element('ul', 'jp-papers-sources-list');
    const adding = element('div', 'jp-papers-sources-add');
    this.path = element('input', 'jp-papers-sources-path');
    this.path.placeholder = 'a .bib, .json or .jsonl file, or a folder';
    this.path.setAttribute('aria-label', 'Path of a source to add');
    const add = element('button', 'jp-papers-sources-add-button jp-mod-styled', 'Add');
    add.onclick = () => void this.add(false);
    const zotero = element('button', 'jp-papers-sources-zotero jp-mod-styled', 'Add Zotero');
    zotero.title = 'Your Zotero library, read offline (where Zotero keeps it, or the folder above)';
    zotero.onclick = () => void this.add(true);
    const syncAll = element('button', 'jp-papers-sources-sync-all jp-mod-styled', 'Sync all');
    syncAll.onclick = () => void this.sync();
    adding.append(this.path, add, zotero, syncAll);
    this.node.append(this.summary, this.list, adding);
  }

  async refresh(): Promise<void> {
    let listed: api.ISource[];
    try {
      listed = (await api.sources()).sources;
    } catch {
      return; // the server is restarting, or the index is being rebuilt: next time
    }
    const state = JSON.stringify(listed.map(s => [s.name, s.last_sync, s.papers, s.missing]));
    if (this.state !== null && state !== this.state) {
      this.onChanged();
    }
    this.state = state;
    this.render(listed);
    this.onCollections([...new Set(listed.flatMap(source => source.collections ?? []))].sort());
  }

  private render(listed: api.ISource[]): void {
    const papers = listed.reduce((sum, s) => sum + s.papers, 0);
    const troubled = listed.filter(s => s.missing || s.problems.length).length;
    this.summary.textContent = listed.length
      ? `Sources: ${listed.length} (${papers.toLocaleString()} papers${troubled ? `, ${troubled} with problems` : ''})`
      : 'Sources: none yet';
    this.list.replaceChildren(
      ...listed.map(source => {
        const item = element('li', 'jp-papers-source');
        item.dataset.name = source.name;
        const line = element('div', 'jp-papers-source-line');
        const state = source.missing ? 'missing' : ago(source.last_sync);
        line.append(
          element('span', 'jp-papers-source-name', source.name),
          element('span', 'jp-papers-source-state', `: ${source.papers.toLocaleString()} papers, ${state}`)
        );
        line.title = `${source.kind}: ${source.path}`;
        const sync = element('button', 'jp-papers-source-sync jp-mod-styled', 'Sync');
        sync.setAttribute('aria-label', `Sync ${source.name}`);
        sync.onclick = () => void this.sync(source.name);
        line.append(sync);
        item.append(line);
        for (const problem of source.problems.slice(0, 5)) {
          item.append(element('div', 'jp-papers-source-problem', problem));
        }
        if (source.problems.length > 5) {
          item.append(element('div', 'jp-papers-source-problem', `and ${source.problems.length - 5} more`));
        }
        return item;
      })
    );
  }

  private async add(zotero: boolean): Promise<void> {
    const path = this.path.value.trim();
    if (!path && !zotero) {
      this.onError('Sources: type the path of a .bib, .json or .jsonl file, or a folder');
      return;
    }
    try {
      await api.addSource(path, zotero);
      this.path.value = '';
      await this.refresh();
    } catch (error) {
      this.onError(`Sources: ${(error as Error).message}`);
    }
  }

  private async sync(name?: string): Promise<void> {
    try {
      await api.syncSource(name);
      await this.refresh();
    } catch (error) {
      this.onError(`Sources: ${(error as Error).message}`);
    }
  }

  private summary: HTMLElement;
  private list: HTMLUListElement;
  private path: HTMLInputElement;
  private state: string | null = null;
}
