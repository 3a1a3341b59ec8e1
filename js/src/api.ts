/**
 * The REST API of the jupyter_papers server extension (see DESIGN.md).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { PartialJSONObject } from '@lumino/coreutils';

/** A name as CSL-JSON holds it: its parts, or a literal (an organisation). */
export interface IName {
  family?: string;
  given?: string;
  'dropping-particle'?: string;
  'non-dropping-particle'?: string;
  suffix?: string;
  literal?: string;
}

/** The name written out, as the Python side's Name reads ("Martin Luther King Jr."). */
export function nameText(name: IName | string): string {
  if (typeof name === 'string') {
    return name;
  }
  if (name.literal) {
    return name.literal === 'others' ? 'et al.' : name.literal;
  }
  return [name.given, name['dropping-particle'], name['non-dropping-particle'], name.family, name.suffix]
    .filter(part => part)
    .join(' ');
}

export interface IPaper {
  id: string;
  title: string;
  abstract: string;
  authors: IName[];
  year: number | null;
  venue: string;
  doi: string;
  arxiv_id: string;
  url: string;
  key: string;
  /** Zotero item, collections, library, and ``pdf``: an attachment the server serves */
  extra?: { [name: string]: string };
}

/** A page of the paper's PDF where the query's words are; page 0: a text without page numbers. */
export interface IPageHit {
  page: number;
  /** escaped HTML, the words matched in <mark> */
  snippet: string;
}

export interface IHit {
  paper: IPaper;
  score: number;
  highlights: { title?: string; abstract?: string; authors?: string };
  pages?: IPageHit[];
  /** a paper from the web, not in the index yet: the identifier that adds it */
  online?: string;
}

/** What the sidebar's settings allow online, sent with each online request. */
export interface IOnlineSettings {
  online: string;
  email: string;
  proxy: string;
}

/** What the web has for a query the index answers poorly, or an identifier it lacks. */
export function onlineResults(
  q: string,
  limit: number,
  settings: IOnlineSettings
): Promise<{ papers: IPaper[]; error: string | null }> {
  const query = new URLSearchParams({ q, limit: String(limit), ...settings });
  return requestAPI(`online?${query.toString()}`);
}

/** The index's paper for an identifier: looked up online and added when it lacks it. */
export async function addIdentifier(id: string, settings: IOnlineSettings): Promise<IPaper> {
  const answer = await requestAPI<{ paper: IPaper }>('lookup', {
    method: 'POST',
    body: JSON.stringify({ id, ...settings })
  });
  return answer.paper;
}

/** The identifier that adds a paper found online: its DOI, else its arXiv id. */
export function identifierOf(paper: IPaper): string {
  return paper.doi ? `doi:${paper.doi}` : paper.arxiv_id ? `arXiv:${paper.arxiv_id}` : paper.extra?.looked_up ?? '';
}

/** Whether text reads as a DOI, arXiv id, PubMed id or ISBN (the server decides for sure). */
export function looksLikeIdentifier(text: string): boolean {
  return /^\s*(doi:|https?:\/\/\S*(doi|arxiv|pubmed|\/10\.\d{4,9}\/)|10\.\d{4,9}\/|arxiv:|\d{4}\.\d{4,5}|[a-z-]+\/\d{7}|pmid|pubmed|isbn|97[89][\d-]{10})/i
    .test(text);
}

/** Where a search looks: everywhere, the PDFs' pages only, or titles and abstracts only. */
export type Scope = 'all' | 'fulltext' | 'metadata';

export interface IResults {
  query: string;
  total: number;
  /** false when total is a lower bound (counting every match would cost more than the search) */
  total_exact: boolean;
  offset: number;
  limit: number;
  suggestion: string | null;
  truncated: boolean;
  facets: { year?: { [year: string]: number } };
  hits: IHit[];
  /** set when meaning re-ranked the hits: how many of the index's papers it could use */
  meaning: { embedded: number; papers: number } | null;
}

/** Search by meaning: on for sentences (auto), for every query (on), or never (off). */
export type Meaning = 'auto' | 'on' | 'off';

export interface IMeaningStatus {
  state: 'unavailable' | 'off' | 'partial' | 'embedding' | 'complete';
  embedded: number;
  papers: number;
  message: string;
}

export function meaningStatus(): Promise<IMeaningStatus> {
  return requestAPI<IMeaningStatus>('meaning');
}

/** "by words and meaning", or how much of the index meaning covered so far. */
export function meaningLabel(results: IResults): string {
  const reach = results.meaning;
  if (!reach) {
    return '';
  }
  return reach.embedded >= reach.papers
    ? 'by words and meaning'
    : `by words and meaning: ${reach.embedded.toLocaleString('en')} of ${reach.papers.toLocaleString('en')} papers embedded so far`;
}

export interface ICitation {
  id: string;
  key: string;
  text: string;
  bibtex: string;
}

export interface IAddReport {
  added: number;
  updated: number;
  unchanged: number;
  skipped: { line: number | null; message: string }[];
}

export interface ISearchParams {
  q: string;
  limit: number;
  offset: number;
  year_from?: number;
  year_to?: number;
  scope?: Scope;
  meaning?: Meaning;
}

/** Call the server extension; a failed call throws an Error carrying the server's message. */
export async function requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'jupyter-papers', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw new Error(data.message || `${response.status} ${response.statusText}`);
  }
  return data as T;
}

export function search(params: ISearchParams): Promise<IResults> {
  const query = new URLSearchParams();
  query.set('q', params.q);
  query.set('limit', String(params.limit));
  query.set('offset', String(params.offset));
  if (params.year_from) {
    query.set('year_from', String(params.year_from));
  }
  if (params.year_to) {
    query.set('year_to', String(params.year_to));
  }
  if (params.scope && params.scope !== 'all') {
    query.set('scope', params.scope);
  }
  if (params.meaning && params.meaning !== 'auto') {
    query.set('meaning', params.meaning);
  }
  return requestAPI<IResults>(`search?${query.toString()}`);
}

const paperPath = (id: string) => `papers/${encodeURIComponent(id)}`;

export function citation(id: string, style: string, format = 'markdown'): Promise<ICitation> {
  const query = new URLSearchParams({ style, format });
  return requestAPI<ICitation>(`${paperPath(id)}/cite?${query.toString()}`);
}

export function abstractCell(id: string): Promise<{ markdown: string }> {
  return requestAPI<{ markdown: string }>(`${paperPath(id)}/abstract`);
}

export function related(id: string, limit: number, meaning: Meaning = 'auto'): Promise<IResults> {
  return requestAPI<IResults>(`${paperPath(id)}/related?limit=${limit}&meaning=${meaning}`);
}

export function addPapers(body: string, filename: string): Promise<IAddReport> {
  return requestAPI<IAddReport>(`papers?filename=${encodeURIComponent(filename)}`, {
    method: 'POST',
    body
  });
}

/** A .bib file's dialect as the settings name it; auto: the file's own. */
export type BibDialect = 'auto' | 'bibtex' | 'biblatex';

function dialectOf(dialect: BibDialect | undefined): string | null {
  return dialect && dialect !== 'auto' ? dialect : null;
}

export function addToBibliography(
  ids: string[],
  path: string,
  dialect?: BibDialect
): Promise<{ added: string[]; keys: { [id: string]: string } }> {
  return requestAPI(`bibliography`, {
    method: 'POST',
    body: JSON.stringify({ ids, path, dialect: dialectOf(dialect) })
  });
}

export interface IReferenceList {
  markdown: string;
  cited: string[];
  missing: string[];
  listed: number;
  keys: { [id: string]: string };
  /** The reference list cell to write: the list, then what the user wrote in the cell. */
  cell: { source: string; marker: PartialJSONObject };
}

/** The reference list of these cells (as the notebook holds them now, saved or not). */
export function referenceList(
  cells: { cell_type: string; source: string; metadata: unknown }[],
  style: string,
  bib?: string,
  dialect?: BibDialect
): Promise<IReferenceList> {
  return requestAPI<IReferenceList>('references', {
    method: 'POST',
    body: JSON.stringify({
      cells,
      style,
      bib: bib ?? null,
      dialect: dialectOf(dialect)
    })
  });
}

/** One inline citation of several papers, in a notebook's syntax (pandoc, myst, latex). */
export function inlineCitation(ids: string[], format: string, narrative = false): Promise<{ text: string }> {
  return requestAPI<{ text: string }>('inline', {
    method: 'POST',
    body: JSON.stringify({ ids, format, narrative })
  });
}

/** A registered source, as the server lists it. */
export interface ISource {
  name: string;
  kind: string;
  path: string;
  papers: number;
  last_sync: number | null;
  problems: string[];
  missing: boolean;
  /** a Zotero library's collections, as paths ("Thesis/Chapter 2") */
  collections: string[];
}

export function sources(): Promise<{ sources: ISource[] }> {
  return requestAPI<{ sources: ISource[] }>('sources');
}

export function addSource(path: string, zotero = false): Promise<{ name: string; added: number; problems: string[] }> {
  return requestAPI('sources', { method: 'POST', body: JSON.stringify(zotero ? { zotero: true, path: path || null } : { path }) });
}

export function syncSource(name?: string): Promise<{ synced: { name: string }[] }> {
  return requestAPI(name ? `sources/${encodeURIComponent(name)}/sync` : 'sources/sync', { method: 'POST' });
}

/** The PDF attachment of a paper, as bytes the server read from the file the index knows. */
export async function pdfOf(id: string): Promise<ArrayBuffer> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'jupyter-papers', paperPath(id), 'pdf');
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (!response.ok) {
    const text = await response.text();
    throw new Error((text && JSON.parse(text).message) || `${response.status} ${response.statusText}`);
  }
  return response.arrayBuffer();
}

/** The notebook at `path` (saved) exported as `to` beside it, its citations resolved. */
export function exportNotebook(
  path: string,
  to: string,
  style: string
): Promise<{ path: string; papers: number; missing: string[] }> {
  return requestAPI('export', { method: 'POST', body: JSON.stringify({ path, to, style }) });
}
