/**
 * How far search by meaning reaches: while papers are being embedded (after an import,
 * in the background on the server), a line says how many have a vector so far. Searches
 * work by words meanwhile; a sentence's results say when meaning covered only part.
 */
import * as api from './api';
import { PollingView } from './polling';

export class MeaningView extends PollingView {
  readonly node: HTMLDivElement;

  constructor() {
    super();
    this.node = document.createElement('div');
    this.node.className = 'jp-papers-meaning';
    this.node.hidden = true;
  }

  async refresh(): Promise<void> {
    let status: api.IMeaningStatus;
    try {
      status = await api.meaningStatus();
    } catch {
      return; // the server is restarting, or the index is being rebuilt: next time
    }
    const working = status.state === 'embedding' || status.state === 'partial';
    this.node.hidden = !working;
    this.node.dataset.state = status.state;
    this.node.textContent = working
      ? `Meaning: ${status.embedded.toLocaleString('en')} of ${status.papers.toLocaleString('en')} papers` +
        (status.state === 'embedding' ? ' embedded so far' : ' embedded (paused)')
      : '';
  }
}
