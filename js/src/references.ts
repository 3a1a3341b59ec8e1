/**
 * The notebook's reference list: every citation in its Markdown cells, as the notebook
 * holds them now, formatted by the server into one marked "References" cell.
 */
import { PathExt } from '@jupyterlab/coreutils';
import { NotebookPanel } from '@jupyterlab/notebook';

import { BibDialect, IReferenceList, referenceList } from './api';
import { cellsOf, upsertReferenceCell } from './notebook';

export interface IReferenceSettings {
  style: string;
  addToBibliography: boolean;
  bibliographyFile: string;
  bibliographyDialect: BibDialect;
}

/** Write (or rewrite) the reference list cell of a notebook; with the .bib setting on, the
 * cited papers go into the .bib file beside it, which the notebook's metadata names. */
export async function updateReferences(
  panel: NotebookPanel,
  settings: IReferenceSettings,
  style?: string
): Promise<IReferenceList> {
  const chosen = style || (settings.style === 'bibtex' ? 'apa' : settings.style);
  const bib = settings.addToBibliography
    ? PathExt.join(PathExt.dirname(panel.context.path), settings.bibliographyFile)
    : undefined;
  const result = await referenceList(
    cellsOf(panel.content),
    chosen,
    bib,
    settings.bibliographyDialect
  );
  upsertReferenceCell(panel.content, result.cell.source, result.cell.marker);
  if (bib) {
    panel.content.model?.sharedModel.setMetadata('bibliography', settings.bibliographyFile);
  }
  return result;
}
