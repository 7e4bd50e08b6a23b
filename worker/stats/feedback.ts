import type { Database } from '../db.ts';
import { sameDevice, type Device } from '../devices/store.ts';
import { HttpError, quoted } from '../errors.ts';

interface PredictionRow {
  version: string;
  device: string;
  top_label: string;
  probabilities: string;
}

export interface FeedbackResult {
  id: string;
  label: string;
  version: string;
  predicted: string;
  correct: boolean;
  recordedAt: string;
}

/**
 * Stores the confirmed class of an earlier prediction, once: the same label again changes
 * nothing (`created: false`), another label is a 409. The prediction must exist and have
 * been answered (404), belong to the device unless the token is an admin's (403), and the
 * label must be one of the answering version's classes (422).
 *
 * @example
 * const { created, result } = await recordFeedback(env.DB, device, id, 'NEUTROPHIL');
 */
export async function recordFeedback(db: Database, device: Device, id: string, label: string): Promise<{ created: boolean; result: FeedbackResult }> {
  const prediction = await db
    .prepare('SELECT version, device, top_label, probabilities FROM predictions WHERE id = ? AND status = 200')
    .bind(id)
    .first<PredictionRow>();
  if (!prediction) throw new HttpError('prediction_not_found', `no classification with id ${quoted(id)} is recorded`);
  if (!device.admin && !sameDevice(prediction.device, device.name)) {
    throw new HttpError('forbidden', `prediction ${id} was made for another device; only that device or an admin token may confirm it`);
  }
  const classes = Object.keys(JSON.parse(prediction.probabilities) as Record<string, number>);
  if (!classes.includes(label)) {
    throw new HttpError('unknown_label', `${quoted(label)} is not a class of model version ${prediction.version} (classes: ${classes.join(', ')})`);
  }
  const inserted = await db
    .prepare('INSERT INTO feedback (prediction_id, label, device, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (prediction_id) DO NOTHING')
    .bind(id, label, device.name, new Date().toISOString())
    .run();
  const stored = await db.prepare('SELECT label, created_at FROM feedback WHERE prediction_id = ?').bind(id).first<{ label: string; created_at: string }>();
  if (!stored) throw new Error(`feedback for ${id} was written but cannot be read back`);
  if (stored.label !== label) {
    throw new HttpError('feedback_conflict', `prediction ${id} was already confirmed as "${stored.label}" (at ${stored.created_at}); feedback is kept once per prediction`);
  }
  const result = { id, label, version: prediction.version, predicted: prediction.top_label, correct: prediction.top_label === label, recordedAt: stored.created_at };
  return { created: Boolean(inserted.meta.changes), result };
}
