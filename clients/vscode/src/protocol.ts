/* protocol.ts — the client's side of the protocol details quorum-ls cares about, kept free of
 * VS Code so the integration test can use them on a real server.
 *
 * - Push diagnostics only: quorum-ls registers pull diagnostics when a client offers them, and
 *   VS Code would then show every finding twice (its pull and push collections are separate).
 * - workspace/configuration answers for section "quorum" are the server's settings, not the raw
 *   VS Code object (whose empty configFile would name no file).
 * - Progress: each window/workDoneProgress/create token is followed to its end. */
import {ServerSettings} from './settings';

/** The languages quorum-ls parses (server/change/languages.c), as VS Code language ids. */
export const LANGUAGES = ['c', 'cpp', 'python', 'javascript', 'javascriptreact', 'typescript',
  'typescriptreact', 'go', 'rust', 'java', 'shellscript', 'ruby'];

/** LSP error code of a request the server does not know (e.g. an older quorum-ls). */
export const METHOD_NOT_FOUND = -32601;

/** Removes the pull-diagnostics capability from the client's capabilities (mutates, returns them). */
export function pushDiagnosticsOnly<T extends {textDocument?: {diagnostic?: unknown}}>(caps: T): T {
  if (caps.textDocument) delete caps.textDocument.diagnostic;
  return caps;
}

/** Answers workspace/configuration: items for section "quorum" get settingsFor(scopeUri); the
 * others keep what the default handler answered (`fallback`, same order as `items`). */
export function answerConfiguration(items: {section?: string; scopeUri?: string}[], fallback: unknown[],
                                    settingsFor: (scopeUri?: string) => ServerSettings): unknown[] {
  return items.map((it, i) => (it.section === 'quorum' ? settingsFor(it.scopeUri) : fallback[i] ?? null));
}

/** Whether an error thrown by sendRequest is the server's MethodNotFound. */
export function isMethodNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as {code?: unknown}).code === METHOD_NOT_FOUND;
}

/** The fingerprint of the quorum diagnostic covering `line` (0-based), if any. */
export function fingerprintOnLine(diags: readonly {source?: string; range: {start: {line: number}; end: {line: number}}; data?: unknown}[],
                                  line: number): string | undefined {
  for (const d of diags) {
    const fp = (d.data as {fingerprint?: unknown} | undefined)?.fingerprint;
    if (d.source === 'quorum' && typeof fp === 'string' && d.range.start.line <= line && line <= d.range.end.line)
      return fp;
  }
  return undefined;
}
