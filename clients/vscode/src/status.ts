/* status.ts — the status bar item: running passes while a review is on, then the result and cost.
 *
 * It is fed the `$/progress` values quorum-ls sends (begin / report "D/T passes done, $C" / end
 * "N findings"), one token per review; several reviews may run at once, so each token keeps its
 * own state and the item shows their sum. */

/** The part of vscode.StatusBarItem used here. */
export interface StatusItem {
  text: string;
  tooltip?: string | unknown;
  show(): void;
  hide(): void;
}

export interface ProgressValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}

interface Run { done: number; total: number; cost: number }

const REPORT = /(\d+)\/(\d+) passes done, \$([0-9.]+)/;

export class ReviewStatus {
  private readonly runs = new Map<string, Run>();
  private lastCost = 0;
  private lastMessage = '';

  constructor(private readonly item: StatusItem) {
    this.render();
  }

  /** Applies one `$/progress` value for `token`. */
  update(token: string, v: ProgressValue): void {
    const run = this.runs.get(token) ?? {done: 0, total: 0, cost: 0};
    if (v.kind === 'end') {
      this.runs.delete(token);
      this.lastCost = run.cost;
      this.lastMessage = v.message ?? '';
    } else {
      const m = v.message ? REPORT.exec(v.message) : null;
      if (m) {
        run.done = Number(m[1]);
        run.total = Number(m[2]);
        run.cost = Number(m[3]);
      }
      this.runs.set(token, run);
    }
    this.render();
  }

  /** Forgets running reviews (the server stopped). */
  reset(): void {
    this.runs.clear();
    this.render();
  }

  private render(): void {
    if (this.runs.size) {
      let done = 0, total = 0, cost = 0;
      for (const r of this.runs.values()) {
        done += r.done;
        total += r.total;
        cost += r.cost;
      }
      this.item.text = `$(sync~spin) quorum ${done}/${total} passes · $${cost.toFixed(4)}`;
      this.item.tooltip = `${this.runs.size} review(s) running`;
    } else {
      const what = this.lastMessage ? `${this.lastMessage} · ` : '';
      this.item.text = `$(checklist) quorum ${what}$${this.lastCost.toFixed(4)}`;
      this.item.tooltip = 'quorum: last review (click for the server log)';
    }
    this.item.show();
  }
}
