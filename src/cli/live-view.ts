import type { Terminal } from "./command.js";

/**
 * A block of text redrawn in place on a terminal, for `--watch`: each `show` moves the cursor back
 * to the top of the previous block and overwrites it. Blocks taller than the terminal are cut to
 * fit, since the cursor cannot move above the top of the screen.
 */
export class LiveView {
  private shownLines = 0;

  constructor(private readonly out: Terminal) {}

  show(text: string): void {
    let lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
    const height = this.out.rows ?? 0;
    if (height > 1 && lines.length > height - 1) lines = lines.slice(0, height - 1);
    const width = this.out.columns ?? 0;
    if (width > 1) lines = lines.map((l) => (l.length >= width ? l.slice(0, width - 1) : l));
    // ESC[nF: to the start of the line n lines up; ESC[J: clear from there to the end of the screen.
    const back = this.shownLines > 0 ? `\x1b[${this.shownLines}F\x1b[J` : "";
    this.out.write(`${back}${lines.join("\n")}\n`);
    this.shownLines = lines.length;
  }
}
