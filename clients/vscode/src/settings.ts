/* settings.ts — the extension's settings, turned into what the server and the views need.
 *
 * Pure functions over a `get(key, default)` reader (vscode.WorkspaceConfiguration has that shape),
 * so they are unit-tested without VS Code. The server reads section "quorum" with the keys
 * configFile, trigger and debounceMs (see server/lsp/lsp_review.c apply_settings); everything else
 * here is the client's own. */
import * as fs from 'fs';
import * as path from 'path';

/** The part of vscode.WorkspaceConfiguration used here (`inspect` tells user settings from
 * workspace ones; readers without it are taken as user settings). */
export interface SettingsReader {
  get<T>(key: string, defaultValue: T): T;
  inspect?<T>(key: string): {globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T} | undefined;
}

/** What `initializationOptions` and `workspace/didChangeConfiguration` send to quorum-ls. */
export interface ServerSettings {
  configFile?: string;
  trigger: 'onSave' | 'manual';
  debounceMs: number;
}

/** LSP severities (1 Error … 4 Hint), as named in the `quorum.minSeverity` setting. */
export const SEVERITY_BY_NAME: Record<string, number> = {error: 1, warning: 2, information: 3, hint: 4};

/** Where the paths are judged: the workspace folders (file system paths) and the user's home. */
export interface PathContext {
  folders: string[];
  home: string;
}

/** A resolved path or why it is refused. */
export type Resolved = {path: string} | {error: string};

/** A user-only setting (server.path, configFile): the user settings' value, never a workspace's —
 * a repository must not pick the binary that runs or where the keys go. */
function userValue<T>(s: SettingsReader, key: string, dflt: T): T {
  const v = s.inspect ? s.inspect<T>(key)?.globalValue : s.get<T>(key, dflt);
  return v === undefined || v === null ? dflt : v;
}

function userString(s: SettingsReader, key: string): string {
  const v = userValue<unknown>(s, key, '');
  return typeof v === 'string' ? v.trim() : '';
}

/** The real path of `p`, or `p` itself when it does not exist. */
function realOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** The settings only the user's own settings may give (scope "machine" in package.json). */
const USER_ONLY = ['server.path', 'server.args', 'configFile'];

/** The user-only settings a workspace tried to set (they are ignored; the user is told). */
export function workspaceAttempts(s: SettingsReader): string[] {
  return USER_ONLY.filter((k) => {
    const i = s.inspect?.<string>(k);
    return Boolean(i && (i.workspaceValue !== undefined || i.workspaceFolderValue !== undefined));
  }).map((k) => `quorum.${k}`);
}

/** Whether real path `p` is `dir` or below it. */
function inside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

/** A path setting made real: `~` expanded against the home, other relative paths refused (they
 * would resolve against some workspace), symlinks and `..` followed by realpath. */
export function resolvePath(setting: string, home: string, realpath: (p: string) => string = fs.realpathSync): Resolved {
  const expanded = setting === '~' || setting.startsWith('~/') ? path.join(home, setting.slice(1)) : setting;
  if (!path.isAbsolute(expanded)) return {error: `${setting} is relative: give an absolute path or ~/…`};
  try {
    return {path: realpath(expanded)};
  } catch (e) {
    return {error: `${expanded}: ${e instanceof Error ? e.message : String(e)}`};
  }
}

/** The real path of a user-level file: refused when it lies inside any workspace folder. */
function userFile(setting: string, ctx: PathContext, what: string): Resolved {
  const r = resolvePath(setting, ctx.home);
  if ('error' in r) return {error: `${what} refused: ${r.error}`};
  const folder = ctx.folders.find((f) => inside(realOr(f), r.path));
  return folder ? {error: `${what} refused: ${r.path} is inside the workspace folder ${folder}`} : r;
}

/** The server to start: quorum.server.path from the user settings, else the binary bundled in
 * the extension's bin/, else quorum-ls from PATH. `source` says which, for the output channel;
 * `error` when the user's path cannot be used (nothing else is started in its place). */
export interface ServerCommand {
  command: string;
  args: string[];
  source: string;
  error?: string;
}

export function serverCommand(s: SettingsReader, extensionDir: string, ctx: PathContext,
                              exists: (p: string) => boolean = fs.existsSync,
                              pathEnv: string = process.env.PATH ?? ''): ServerCommand {
  const given = userValue<unknown>(s, 'server.args', []);
  const args = (Array.isArray(given) ? given : []).filter((a): a is string => typeof a === 'string');
  const configured = userString(s, 'server.path');
  if (configured) {
    const r = resolvePath(configured, ctx.home);
    if ('error' in r) return {command: configured, args, source: 'quorum.server.path', error: `quorum.server.path: ${r.error}`};
    return {command: r.path, args, source: 'quorum.server.path'};
  }
  const bundled = path.join(extensionDir, 'bin', 'quorum-ls');
  if (exists(bundled)) return {command: bundled, args, source: 'bundled with the extension'};
  const found = pathEnv.split(path.delimiter).filter((d) => path.isAbsolute(d))
    .map((d) => path.join(d, 'quorum-ls')).find((p) => exists(p));
  if (!found) return {command: 'quorum-ls', args, source: 'PATH', error: 'quorum-ls is neither bundled nor on PATH; set quorum.server.path'};
  const r = userFile(found, ctx, 'quorum-ls from PATH');
  return 'error' in r ? {command: found, args, source: 'PATH', error: r.error} : {command: found, args, source: 'PATH'};
}

/** The settings the server understands. An empty configFile is left out (the server then uses
 * $QUORUM_CONFIG / the user file); a refused one too, after `refused` was told why. */
export function serverSettings(s: SettingsReader, ctx: PathContext, refused: (why: string) => void = () => undefined): ServerSettings {
  const out: ServerSettings = {
    trigger: s.get<string>('trigger', 'onSave') === 'manual' ? 'manual' : 'onSave',
    debounceMs: clampInt(s.get<number>('debounceMs', 1000), 0, 600000, 1000),
  };
  const file = userString(s, 'configFile');
  if (!file) return out;
  const r = userFile(file, ctx, 'quorum.configFile');
  if ('error' in r) refused(r.error);
  else out.configFile = r.path;
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
