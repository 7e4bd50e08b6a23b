import cliProgress from 'cli-progress';
import type { EpochRecord } from './report/types.ts';

type ProgressMode = 'bar' | 'lines' | 'quiet';

/** A bar per epoch on a terminal, one line per epoch otherwise, nothing with --quiet. */
export function progressMode(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (quiet) return 'quiet';
  return stream.isTTY ? 'bar' : 'lines';
}

/**
 * Where the trainer tells the person what it is doing. Progress and notes go to stderr so
 * stdout stays clean for machine-readable output (`--json`); warnings always print.
 */
export class Reporter {
  private bar?: cliProgress.SingleBar;
  private epochs = 0;

  constructor(readonly mode: ProgressMode, private readonly out: NodeJS.WriteStream = process.stderr) {}

  info(message: string): void {
    if (this.mode !== 'quiet') this.out.write(`${message}\n`);
  }

  warn(message: string): void {
    this.bar?.stop();
    this.out.write(`warning: ${message}\n`);
  }

  setEpochs(epochs: number): void {
    this.epochs = epochs;
  }

  epochStart(epoch: number, batches: number): void {
    if (this.mode !== 'bar') return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `epoch ${epoch}/${this.epochs} [{bar}] {value}/{total} batches | {speed} img/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        stream: this.out,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(batches, 0, { speed: '-' });
  }

  batch(done: number, imagesPerSecond: number): void {
    this.bar?.update(done, { speed: imagesPerSecond.toFixed(0) });
  }

  epochEnd(r: EpochRecord, imagesPerSecond: number): void {
    this.bar?.stop();
    this.bar = undefined;
    if (this.mode === 'quiet') return;
    this.out.write(
      `epoch ${r.epoch}/${this.epochs}  loss ${r.loss.toFixed(4)}  acc ${(100 * r.accuracy).toFixed(1)}%  ` +
        `val_loss ${r.valLoss.toFixed(4)}  val_acc ${(100 * r.valAccuracy).toFixed(1)}%  ` +
        `${(r.durationMs / 1000).toFixed(1)}s  ${imagesPerSecond.toFixed(0)} img/s\n`,
    );
  }

  /** Progress of a long step outside the epochs: a bar on a terminal, a line per quarter otherwise. */
  progress(label: string, done: number, total: number): void {
    if (this.mode === 'quiet' || total <= 0) return;
    if (this.mode === 'lines') {
      const quarter = Math.floor((4 * done) / total);
      if (quarter > Math.floor((4 * (done - 1)) / total)) this.out.write(`${label}: ${Math.round((100 * done) / total)}%\n`);
      return;
    }
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: true, stream: this.out }, cliProgress.Presets.shades_classic);
      this.bar.start(total, 0);
    }
    this.bar.update(done);
    if (done >= total) {
      this.bar.stop();
      this.bar = undefined;
    }
  }

  /** Printed even with --quiet: the outcome a person ran the command for. */
  summary(message: string): void {
    this.bar?.stop();
    this.out.write(`${message}\n`);
  }
}
