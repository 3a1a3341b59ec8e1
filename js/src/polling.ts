/**
 * A view of the server's state that asks for it now and every POLL_MS while the sidebar
 * shows (start() when shown, stop() when hidden or closed).
 */
export const POLL_MS = 1500;

export abstract class PollingView {
  private timer: number | null = null;

  /** Ask the server and show what it says (a failed request waits for the next turn). */
  abstract refresh(): Promise<void>;

  start(): void {
    if (this.timer === null) {
      void this.refresh();
      this.timer = window.setInterval(() => void this.refresh(), POLL_MS);
    }
  }

  stop(): void {
    if (this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
  }
}
