/**
 * jupyter-papers: a sidebar to search papers and cite them in notebooks, the
 * "Index papers in this file" file-browser command, and the comm target through which
 * the kernel (%papers) inserts cells.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification } from '@jupyterlab/apputils';
import { IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { PageConfig, PathExt, URLExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMime, IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { addPapers, exportNotebook, IPaper, pdfOf } from './api';
import { registerCommTargets } from './comm';
import { registerCitationCompletion } from './completion';
import { passageAt } from './notebook';
import { DEFAULT_SETTINGS, IPanelSettings, PapersPanel } from './panel';
import { updateReferences } from './references';

const PLUGIN_ID = 'jupyter-papers:plugin';
const INDEXABLE = ['.bib', '.bibtex', '.json', '.jsonl', '.ndjson', '.xml'];

namespace CommandIDs {
  export const open = 'jupyter-papers:open';
  export const indexFile = 'jupyter-papers:index-file';
  export const references = 'jupyter-papers:update-references';
  export const findFor = 'jupyter-papers:find-for-passage';
  export const exportAs = 'jupyter-papers:export';
}

/** The formats of "Save and Export Notebook As ▸ … with references". */
const EXPORTS: { [format: string]: string } = {
  html: 'HTML',
  pdf: 'PDF',
  docx: 'Word',
  md: 'Markdown',
  latex: 'LaTeX'
};
/** JupyterLab's File ▸ Save and Export Notebook As submenu. */
const EXPORT_SUBMENU = 'jp-mainmenu-file-notebookexport';

const papersIcon = new LabIcon({
  name: 'jupyter-papers:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M6 2h9l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm8 1.5V8h4.5L14 3.5z' +
    'M7 12h10v1.5H7V12zm0 3h10v1.5H7V15zm0 3h6v1.5H7V18z"/></svg>'
});

/** A paper's PDF attachment in JupyterLab's own PDF viewer (the application/pdf renderer),
 * at a page when one is given (the viewer's #page= fragment); one viewer per paper. */
async function openPdf(app: JupyterFrontEnd, rendermime: IRenderMimeRegistry | null, paper: IPaper,
                       page?: number): Promise<void> {
  const id = `jupyter-papers-pdf-${paper.id.replace(/[^\w-]/g, '-')}`;
  const metadata = page ? { fragment: `#page=${page}` } : {};
  const open = viewers.get(id);
  if (open && !open.widget.isDisposed) {
    app.shell.activateById(id);
    await open.renderer.renderModel(new MimeModel({ data: { 'application/pdf': open.data }, metadata }));
    return;
  }
  const bytes = new Uint8Array(await pdfOf(paper.id));
  if (!rendermime || !rendermime.mimeTypes.includes('application/pdf')) {
    throw new Error('this JupyterLab has no PDF viewer');
  }
  let binary = '';
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  const renderer = rendermime.createRenderer('application/pdf');
  const widget = new MainAreaWidget({ content: renderer });
  widget.id = id;
  widget.addClass('jp-papers-pdf');
  widget.title.label = paper.title || paper.id;
  widget.title.caption = paper.extra?.pdf ?? '';
  widget.title.closable = true;
  const data = btoa(binary);
  viewers.set(id, { widget, renderer, data });
  widget.disposed.connect(() => viewers.delete(id));
  app.shell.add(widget, 'main');
  app.shell.activateById(widget.id);
  // the viewer renders once it is in the page
  await renderer.renderModel(new MimeModel({ data: { 'application/pdf': data }, metadata }));
}

const viewers = new Map<string, { widget: MainAreaWidget; renderer: IRenderMime.IRenderer; data: string }>();

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Search papers from a sidebar and insert citations and abstracts into notebooks.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    IDefaultFileBrowser,
    IEditorExtensionRegistry,
    IRenderMimeRegistry,
    IMainMenu
  ],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    fileBrowser: IDefaultFileBrowser | null,
    editorExtensions: IEditorExtensionRegistry | null,
    rendermime: IRenderMimeRegistry | null,
    mainMenu: IMainMenu | null
  ) => {
    const panel = new PapersPanel(tracker);
    panel.onOpenPdf = (paper, page) => openPdf(app, rendermime, paper, page);
    registerCommTargets(tracker, (notebook, style) => updateReferences(notebook, panel.settings, style));
    if (editorExtensions) {
      registerCitationCompletion(editorExtensions, () => panel.settings.inlineFormat, () => panel.onlineSettings());
    }
    panel.title.icon = papersIcon;
    app.shell.add(panel, 'left', { rank: 850 });
    restorer?.add(panel, 'jupyter-papers');

    app.commands.addCommand(CommandIDs.open, {
      label: 'Search papers',
      caption: 'Open the papers sidebar and focus its search box',
      icon: papersIcon,
      execute: () => {
        app.shell.activateById(panel.id);
        // after the palette (if it ran this) has handed focus back to where it came from
        window.requestAnimationFrame(() => panel.focusInput());
      }
    });
    palette?.addItem({ command: CommandIDs.open, category: 'Papers' });

    app.commands.addCommand(CommandIDs.findFor, {
      label: 'Find papers for this sentence',
      caption: 'Search the papers for the selected text, or the sentence at the cursor, of the active cell',
      icon: papersIcon,
      isEnabled: () => tracker.activeCell !== null,
      execute: () => {
        const passage = passageAt(tracker.currentWidget);
        app.shell.activateById(panel.id);
        window.requestAnimationFrame(() => (passage ? panel.searchFor(passage) : panel.focusInput()));
      }
    });
    palette?.addItem({ command: CommandIDs.findFor, category: 'Papers' });
    app.contextMenu.addItem({ command: CommandIDs.findFor, selector: '.jp-Notebook .jp-Cell .jp-Editor', rank: 0 });

    app.commands.addCommand(CommandIDs.references, {
      label: 'Update the notebook’s references',
      caption: 'List every paper the Markdown cells cite in one References cell at the end',
      icon: papersIcon,
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        const notebook = tracker.currentWidget;
        if (!notebook) {
          return;
        }
        try {
          const result = await updateReferences(notebook, panel.settings);
          const missing = result.missing.length ? `; not in the index: ${result.missing.join(', ')}` : '';
          Notification.emit(`References: ${result.listed} papers${missing}`, missing ? 'warning' : 'success',
            { autoClose: 5000 });
        } catch (error) {
          Notification.error(`References: ${(error as Error).message}`, { autoClose: 8000 });
        }
      }
    });
    palette?.addItem({ command: CommandIDs.references, category: 'Papers' });
    panel.onUpdateReferences = () => void app.commands.execute(CommandIDs.references);

    app.commands.addCommand(CommandIDs.exportAs, {
      label: args => `${EXPORTS[args.format as string] ?? 'a file'} with references`,
      caption: args =>
        `Save the notebook, then write it as ${EXPORTS[args.format as string]} beside it: citations resolved by ` +
        'pandoc in the sidebar’s citation style, one reference list',
      icon: papersIcon,
      isEnabled: () => tracker.currentWidget !== null,
      execute: async args => {
        const notebook = tracker.currentWidget;
        const format = args.format as string;
        if (!notebook) {
          return;
        }
        const id = Notification.emit(`Exporting ${notebook.context.path} as ${EXPORTS[format]}…`, 'in-progress', {
          autoClose: false
        });
        try {
          await notebook.context.save();
          const done = await exportNotebook(notebook.context.path, format, panel.settings.style);
          const missing = done.missing.length ? `; not found: ${done.missing.join(', ')}` : '';
          Notification.update({
            id,
            message: `Exported ${done.path}: ${done.papers} references${missing}`,
            type: missing ? 'warning' : 'success',
            autoClose: 10000,
            actions: [
              {
                label: 'Download',
                callback: () =>
                  window.open(URLExt.join(PageConfig.getBaseUrl(), 'files', URLExt.encodeParts(done.path)) + '?download=1')
              }
            ]
          });
        } catch (error) {
          Notification.update({ id, message: `Export: ${(error as Error).message}`, type: 'error', autoClose: 10000 });
        }
      }
    });
    void app.restored.then(() => {
      const submenu = mainMenu?.fileMenu.items.find(item => item.type === 'submenu' && item.submenu?.id === EXPORT_SUBMENU)
        ?.submenu;
      for (const format of Object.keys(EXPORTS)) {
        submenu?.addItem({ command: CommandIDs.exportAs, args: { format } });
        palette?.addItem({ command: CommandIDs.exportAs, args: { format }, category: 'Papers' });
      }
    });

    const selectedFiles = () => (fileBrowser ? Array.from(fileBrowser.selectedItems()) : []);
    const indexable = (path: string) => INDEXABLE.includes(PathExt.extname(path.replace(/\.gz$/, '')).toLowerCase());
    app.commands.addCommand(CommandIDs.indexFile, {
      label: 'Index papers in this file',
      icon: papersIcon,
      isVisible: () => selectedFiles().some(item => item.type !== 'directory' && indexable(item.path)),
      execute: async () => {
        for (const item of selectedFiles().filter(i => indexable(i.path))) {
          try {
            const file = await app.serviceManager.contents.get(item.path, { content: true, format: 'text' });
            const report = await addPapers(String(file.content), item.name);
            const skipped = report.skipped.map(s => (s.line ? `line ${s.line}: ${s.message}` : s.message));
            const summary = `${item.name}: added ${report.added}, updated ${report.updated}, skipped ${report.skipped.length}`;
            Notification.emit(skipped.length ? `${summary} (${skipped.slice(0, 3).join('; ')})` : summary,
              skipped.length ? 'warning' : 'success', { autoClose: 8000 });
            panel.refresh();
          } catch (error) {
            Notification.error(`${item.name}: ${(error as Error).message}`, { autoClose: 8000 });
          }
        }
      }
    });
    app.contextMenu.addItem({
      command: CommandIDs.indexFile,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 20
    });

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const apply = () => {
          panel.settings = { ...DEFAULT_SETTINGS, ...(settings.composite as unknown as Partial<IPanelSettings>) };
        };
        apply();
        settings.changed.connect(apply);
      });
    }
  }
};

export default plugin;
