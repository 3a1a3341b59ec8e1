/**
 * Putting text into notebooks: a Markdown cell below a given cell, or an inline citation
 * at the cursor of the Markdown cell being edited.
 */
import { MarkdownCell } from '@jupyterlab/cells';
import { Notebook, NotebookPanel } from '@jupyterlab/notebook';
import { PartialJSONObject } from '@lumino/coreutils';

import { placeCitation } from './placement';

/**
 * Insert a cell below the cell with `afterCellId` (or the active cell); returns its id.
 * `activate` moves the selection to it, so that insertions from the panel follow each
 * other in reading order; the kernel's insertions leave the selection where the user is.
 */
export function insertCellBelow(
  notebook: Notebook,
  source: string,
  cellType: 'markdown' | 'code' = 'markdown',
  afterCellId: string | null = null,
  activate = false
): string {
  const model = notebook.model;
  if (!model) {
    throw new Error('the notebook has no model yet');
  }
  let index = notebook.activeCellIndex;
  if (afterCellId) {
    const found = notebook.widgets.findIndex(cell => cell.model.id === afterCellId);
    if (found >= 0) {
      index = found;
    }
  }
  const at = Math.min(index + 1, model.cells.length);
  model.sharedModel.insertCell(at, { cell_type: cellType, source });
  const cell = notebook.widgets[at];
  if (cell instanceof MarkdownCell) {
    cell.rendered = true;
  }
  if (activate) {
    notebook.activeCellIndex = at;
  }
  return cell.model.id;
}

/** Where an inline citation would go: the Markdown cell being edited and its cursor. */
export interface IInlineTarget {
  panel: NotebookPanel;
  cellId: string;
  offset: number;
}

export function inlineTarget(panel: NotebookPanel | null): IInlineTarget | null {
  if (!panel) {
    return null;
  }
  const notebook = panel.content;
  const cell = notebook.activeCell;
  if (!cell || cell.model.type !== 'markdown' || notebook.mode !== 'edit') {
    return null;
  }
  if (cell instanceof MarkdownCell && cell.rendered) {
    return null;
  }
  const editor = cell.editor;
  const offset = editor ? editor.getOffsetAt(editor.getCursorPosition()) : cell.model.sharedModel.getSource().length;
  return { panel, cellId: cell.model.id, offset };
}

/** What to find papers for in the active cell: its selected text, else the sentence
 * around the cursor (a sentence ends at ".", "!" or "?" and a space, or a blank line). */
export function passageAt(panel: NotebookPanel | null): string {
  const cell = panel?.content.activeCell;
  const editor = cell?.editor;
  if (!cell || !editor) {
    return '';
  }
  const source = cell.model.sharedModel.getSource();
  const selection = editor.getSelection();
  const start = editor.getOffsetAt(selection.start);
  const end = editor.getOffsetAt(selection.end);
  if (start !== end) {
    return source.slice(Math.min(start, end), Math.max(start, end)).trim();
  }
  const boundary = /[.!?]\s+|\n\s*\n/g;
  let from = 0;
  let to = source.length;
  for (let match = boundary.exec(source); match; match = boundary.exec(source)) {
    const after = match.index + match[0].length;
    if (after <= start) {
      from = after;
    } else {
      to = match.index + 1;
      break;
    }
  }
  return source.slice(from, to).trim();
}

/** Put an inline citation where it belongs near a remembered cursor (see placement.ts);
 * returns the new cursor offset, just after it. */
export function insertInline(target: IInlineTarget, text: string): number {
  const cell = target.panel.content.widgets.find(c => c.model.id === target.cellId);
  if (!cell) {
    throw new Error('the Markdown cell being edited is gone');
  }
  const source = cell.model.sharedModel;
  const placed = placeCitation(source.getSource(), target.offset, text);
  source.updateSource(placed.from, placed.to, placed.text);
  const end = placed.cursor;
  if (cell.editor) {
    cell.editor.setCursorPosition(cell.editor.getPositionAt(end) ?? { line: 0, column: 0 });
  }
  return end;
}

/** The metadata that marks the reference list cell, so that it is found again. */
export const REFERENCES_MARKER = 'jupyter_papers';

/** Update the notebook's reference list cell, or add it at the end; returns its index. The
 * marker (from the server) remembers which lines we wrote, so the user's own are kept. */
export function upsertReferenceCell(
  notebook: Notebook,
  markdown: string,
  marker: PartialJSONObject = { references: true }
): number {
  const model = notebook.model;
  if (!model) {
    throw new Error('the notebook has no model yet');
  }
  const cells = model.sharedModel.cells;
  let at = cells.findIndex(cell => {
    const marker = cell.getMetadata(REFERENCES_MARKER) as { references?: boolean } | undefined;
    return Boolean(marker?.references);
  });
  if (at >= 0) {
    cells[at].setSource(markdown);
    cells[at].setMetadata(REFERENCES_MARKER, marker);
  } else {
    at = cells.length;
    model.sharedModel.insertCell(at, {
      cell_type: 'markdown',
      source: markdown,
      metadata: { [REFERENCES_MARKER]: marker }
    });
  }
  const cell = notebook.widgets[at];
  if (cell instanceof MarkdownCell) {
    cell.rendered = true;
  }
  return at;
}

/** The notebook's cells as the reference list needs them. */
export function cellsOf(notebook: Notebook): { cell_type: string; source: string; metadata: unknown }[] {
  return (notebook.model?.sharedModel.cells ?? []).map(cell => ({
    cell_type: cell.cell_type,
    source: cell.getSource(),
    metadata: cell.getMetadata()
  }));
}
