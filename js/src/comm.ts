/**
 * The `jupyter_papers` comm target: the kernel (%papers, the widget panel) asks the lab
 * to insert a cell below the cell that ran the code. Protocol: DESIGN.md.
 */
import { Clipboard, Notification } from '@jupyterlab/apputils';
import { Cell, MarkdownCell } from '@jupyterlab/cells';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { JSONObject } from '@lumino/coreutils';

import { IReferenceList } from './api';
import { IInlineTarget, inlineTarget, insertCellBelow, insertInline } from './notebook';

export const COMM_TARGET = 'jupyter_papers';
/** Set in a Python kernel as soon as it is ready, so that the kernel knows the lab can
 * insert cells even for cells that run before its comm hello is answered (Run All). */
const ANNOUNCE = "import os as _os; _os.environ['JUPYTER_PAPERS_FRONTEND'] = 'jupyterlab'; del _os";

interface IRequest {
  action?: string;
  cell_type?: 'markdown' | 'code';
  source?: string;
  text?: string;
  after_cell_id?: string | null;
  request_id?: string;
  style?: string;
  /** what the cell is to the cell that asked (cite, abstract): one cell per role and asker */
  role?: string;
}

/** Cell metadata: a cell %papers made says which cell made it, in which role, and the text it
 * was given (to tell an edit); the cell that made it lists what it made. */
const MADE = 'jupyter_papers';
interface IMade {
  made_by: string;
  role: string;
  inserted: string;
}

/** What the kernel may ask for besides inserting a cell: the notebook's reference list. */
export type UpdateReferences = (panel: NotebookPanel, style?: string) => Promise<IReferenceList>;

function handle(panel: NotebookPanel, comm: Kernel.IComm, data: IRequest, references: UpdateReferences): void {
  const reply = (answer: JSONObject) => comm.send({ ...answer, request_id: data.request_id ?? null });
  if (data.action === 'hello') {
    reply({ ok: true, action: 'hello' });
    return;
  }
  if (data.action === 'insert_inline' && typeof data.text === 'string') {
    reply(placeInline(panel, data.text));
    return;
  }
  if (data.action === 'update_references') {
    references(panel, data.style)
      .then(result => reply({ ok: true, listed: result.listed, missing: result.missing }))
      .catch(error => reply({ ok: false, error: String(error.message ?? error) }));
    return;
  }
  if (data.action !== 'insert_cell' || typeof data.source !== 'string') {
    reply({ ok: false, error: `unknown request ${JSON.stringify(data.action)}` });
    return;
  }
  try {
    reply(insertOrUpdate(panel, data.source, data.cell_type ?? 'markdown', data.after_cell_id ?? null, data.role));
  } catch (error) {
    reply({ ok: false, error: String(error) });
  }
}

function madeBy(panel: NotebookPanel, owner: string): Cell[] {
  return panel.content.widgets.filter(cell => (cell.model.getMetadata(MADE) as IMade | undefined)?.made_by === owner);
}

/** A cell the kernel asks for below the cell that runs: inserted the first time; when that
 * cell already made one in this role (the notebook re-run), updated in place, or left as
 * it is if the user edited it since (and said so). */
function insertOrUpdate(panel: NotebookPanel, source: string, cellType: 'markdown' | 'code', owner: string | null,
                        role?: string): JSONObject {
  const existing = owner && role ? madeBy(panel, owner).find(
    cell => (cell.model.getMetadata(MADE) as IMade).role === role) : undefined;
  if (existing) {
    const made = existing.model.getMetadata(MADE) as IMade;
    if (existing.model.sharedModel.getSource() !== made.inserted) {
      Notification.info('%papers left a cell it made before as it is: you edited it since. Delete it to get a new one.',
                        { autoClose: 6000 });
      return { ok: true, cell_id: existing.model.id, kept: true };
    }
    existing.model.sharedModel.setSource(source);
    existing.model.setMetadata(MADE, { ...made, inserted: source });
    if (existing instanceof MarkdownCell) {  // rendered again from the new source
      existing.rendered = false;
      existing.rendered = true;
    }
    return { ok: true, cell_id: existing.model.id, updated: true };
  }
  const siblings = owner ? madeBy(panel, owner) : [];
  const after = siblings.length ? siblings[siblings.length - 1].model.id : owner;
  const cellId = insertCellBelow(panel.content, source, cellType, after);
  if (owner && role) {
    const cell = panel.content.widgets.find(candidate => candidate.model.id === cellId);
    cell?.model.setMetadata(MADE, { made_by: owner, role, inserted: source });
    const asker = panel.content.widgets.find(candidate => candidate.model.id === owner);
    const made = (asker?.model.getMetadata(MADE) as { made?: JSONObject } | undefined)?.made ?? {};
    asker?.model.setMetadata(MADE, { made: { ...made, [role]: cellId } });
  }
  return { ok: true, cell_id: cellId };
}

/** The Markdown cell each notebook was last being edited in, and its cursor, kept as focus
 * leaves it: a click on the kernel panel's "Insert inline" has made its own code cell
 * active by the time the kernel asks. */
const lastEdited = new WeakMap<NotebookPanel, IInlineTarget>();

function rememberEditing(panel: NotebookPanel): void {
  const remember = () => {
    const target = inlineTarget(panel);
    if (target) {
      lastEdited.set(panel, target);
    }
  };
  panel.content.node.addEventListener('mousedown', remember, true);
  panel.content.node.addEventListener('focusout', remember, true);
}

/** An inline citation from the kernel: at the cursor of the Markdown cell last edited,
 * else on the clipboard, saying which. */
function placeInline(panel: NotebookPanel, text: string): JSONObject {
  const target = lastEdited.get(panel);
  if (target && panel.content.widgets.some(cell => cell.model.id === target.cellId)) {
    target.offset = insertInline(target, text);
    return { ok: true, placed: 'cell', cell_id: target.cellId };
  }
  Clipboard.copyToSystem(text);
  Notification.info(`Copied ${text}: paste it where you cite`, { autoClose: 4000 });
  return { ok: true, placed: 'clipboard' };
}

const registered = new WeakSet<Kernel.IKernelConnection>();
/** Kernels (processes: a restart starts a new one) that have been told the lab is here. */
const announced = new WeakMap<Kernel.IKernelConnection, boolean>();

function isPython(panel: NotebookPanel): boolean {
  const spec = panel.content.model?.getMetadata('kernelspec') as { language?: string; name?: string } | undefined;
  const name = panel.sessionContext.session?.kernel?.name ?? spec?.name ?? '';
  return (spec?.language ?? '').toLowerCase() === 'python' || name.startsWith('python');
}

/** Tell a Python kernel the lab is here, before the first cell of its process runs: the
 * request is queued ahead of that cell's own (Run All right after opening, Restart and
 * Run All), so %papers knows from its first line that cells can be inserted. */
function announce(panel: NotebookPanel): void {
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel || announced.get(kernel) || !isPython(panel)) {
    return;
  }
  announced.set(kernel, true);
  kernel.requestExecute({ code: ANNOUNCE, silent: true, store_history: false, stop_on_error: false });
}

function register(panel: NotebookPanel, references: UpdateReferences): void {
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel || registered.has(kernel)) {
    return;
  }
  registered.add(kernel);
  kernel.registerCommTarget(COMM_TARGET, (comm: Kernel.IComm, open: KernelMessage.ICommOpenMsg) => {
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => handle(panel, comm, msg.content.data as IRequest, references);
    handle(panel, comm, open.content.data as IRequest, references);
  });
  kernel.statusChanged.connect((_, status) => {
    if (status === 'restarting' || status === 'autorestarting' || status === 'starting') {
      announced.set(kernel, false);  // a new process: it has to be told again
    }
  });
  announce(panel);
}

/** Register the comm target on every notebook's kernel, again after each kernel change. */
export function registerCommTargets(tracker: INotebookTracker, references: UpdateReferences): void {
  NotebookActions.executionScheduled.connect((_, { notebook }) => {
    const panel = tracker.find(candidate => candidate.content === notebook);
    if (panel) {
      register(panel, references);
      announce(panel);
    }
  });
  tracker.widgetAdded.connect((_, panel) => {
    rememberEditing(panel);
    panel.sessionContext.kernelChanged.connect(() => register(panel, references));
    void panel.sessionContext.ready.then(() => register(panel, references));
    register(panel, references);
  });
}
