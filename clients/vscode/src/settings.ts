/* settings.ts — the extension's settings, turned into what the server and the views need.
 *
 * Pure functions over a `get(key, default)` reader (vscode.WorkspaceConfiguration has that shape),
 * so they are unit-tested without VS Code. The server reads section "quorum" with the keys
 * configFile, trigger and debounceMs (see server/lsp/lsp_review.c apply_settings); everything else
 * here is the client's own. */
import * as fs from 'fs';
import * as path from 'path';

/** The part of vscode.WorkspaceConfiguration used here. */
export interface SettingsReader {
  get<T>(key: string, defaultValue: T): T;
}

/** What `initializationOptions` and `workspace/didChangeConfiguration` send to quorum-ls. */
export interface ServerSettings {
  configFile?: string;
  trigger: 'onSave' | 'manual';
  debounceMs: number;
}

/** LSP severities (1 Error … 4 Hint), as named in the `quorum.minSeverity` setting. */
export const SEVERITY_BY_NAME: Record<string, number> = {error: 1, warning: 2, information: 3, hint: 4};

/** The program and arguments to start: the setting, else a binary bundled in the extension's
 * bin/, else `quorum-ls` from PATH. */
export function serverCommand(s: SettingsReader, extensionDir: string,
                              exists: (p: string) => boolean = fs.existsSync): {command: string; args: string[]} {
  const configured = s.get<string>('server.path', '').trim();
  const bundled = path.join(extensionDir, 'bin', 'quorum-ls');
  const command = configured || (exists(bundled) ? bundled : 'quorum-ls');
  const args = s.get<string[]>('server.args', []).filter((a) => typeof a === 'string');
  return {command, args};
}

/** The settings the server understands. An empty configFile is left out: the server would take ""
 * as a file name instead of falling back to $QUORUM_CONFIG / the user file. */
export function serverSettings(s: SettingsReader): ServerSettings {
  const out: ServerSettings = {
    trigger: s.get<string>('trigger', 'onSave') === 'manual' ? 'manual' : 'onSave',
    debounceMs: clampInt(s.get<number>('debounceMs', 1000), 0, 600000, 1000),
  };
  const file = s.get<string>('configFile', '').trim();
  if (file) out.configFile = file;
  return out;
}

/** The view filter: findings below either threshold are hidden (they stay on the server). */
export interface Thresholds {
  maxSeverity: number; /* the least severe LSP severity shown */
  minConfidence: number;
}

export function thresholds(s: SettingsReader): Thresholds {
  const sev = SEVERITY_BY_NAME[s.get<string>('minSeverity', 'hint')] ?? 4;
  const conf = Number(s.get<number>('minConfidence', 0));
  return {maxSeverity: sev, minConfidence: Number.isFinite(conf) ? Math.min(Math.max(conf, 0), 1) : 0};
}

/** Whether a diagnostic passes: `severity` is LSP's (1..4, missing = Error as the spec says),
 * `data` is what quorum-ls attached ({fingerprint, votes, confidence, sources}). A diagnostic
 * without a confidence is kept: it is not the filter's to judge. */
export function keepDiagnostic(t: Thresholds, severity: number | undefined, data: unknown): boolean {
  if ((severity ?? 1) > t.maxSeverity) return false;
  const conf = (data as {confidence?: unknown} | undefined)?.confidence;
  return typeof conf !== 'number' || conf >= t.minConfidence;
}

function clampInt(v: unknown, lo: number, hi: number, dflt: number): number {
  const n = typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : dflt;
  return Math.min(Math.max(n, lo), hi);
}
