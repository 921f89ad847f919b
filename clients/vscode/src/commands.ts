/* commands.ts — the palette commands. They call quorum-ls through workspace/executeCommand (the
 * server's quorum.* commands, which languageclient also registers under their own ids for code
 * actions — hence the different ids here) or its custom requests. */
import * as vscode from 'vscode';
import {fingerprintOnLine, isMethodNotFound} from './protocol';

/** The part of LanguageClient used here. */
export interface Sender {
  sendRequest(method: string, params?: unknown): Promise<unknown>;
}

/** Palette command id → what it does. */
export type Handlers = Record<string, () => Promise<void>>;

function execute(client: Sender, command: string, args: unknown[]): Promise<unknown> {
  return client.sendRequest('workspace/executeCommand', {command, arguments: args});
}

/** The folder a workspace-wide review starts from: the active file's workspace folder, else the first. */
function reviewRoot(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) || vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.fsPath;
}

function activeUri(): vscode.Uri | undefined {
  return vscode.window.activeTextEditor?.document.uri;
}

/** Shows the call ledger; a server without quorum/ledger gets a clear message, not an error. */
export async function showLedger(client: Sender): Promise<void> {
  let ledger: unknown;
  try {
    ledger = await client.sendRequest('quorum/ledger', {root: reviewRoot()});
  } catch (e) {
    if (!isMethodNotFound(e)) throw e;
    void vscode.window.showInformationMessage(
      'quorum: this quorum-ls has no call ledger (quorum/ledger); update the server to see it.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument({language: 'json', content: JSON.stringify(ledger, null, 2)});
  await vscode.window.showTextDocument(doc, {preview: true});
}

/** The handlers, each bound to the client getClient returns when it runs (none: a message). */
export function commandHandlers(getClient: () => Sender | undefined, showOutput: () => void): Handlers {
  const withClient = (f: (c: Sender) => Thenable<unknown>) => async () => {
    const c = getClient();
    if (!c) return void vscode.window.showWarningMessage('quorum: the server is not running.');
    try {
      await f(c);
    } catch (e) {
      void vscode.window.showErrorMessage(`quorum: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const needFile = (f: (c: Sender, uri: vscode.Uri) => Thenable<unknown>) => withClient(async (c) => {
    const uri = activeUri();
    if (!uri) return void vscode.window.showWarningMessage('quorum: open a file first.');
    if (uri.scheme !== 'file') return void vscode.window.showWarningMessage('quorum: save this file first: quorum reviews files on disk.');
    return f(c, uri);
  });
  return {
    'quorum.reviewCurrentFile': needFile((c, uri) => execute(c, 'quorum.reviewFile', [uri.toString()])),
    'quorum.reviewWorkspaceChanges': withClient((c) => execute(c, 'quorum.reviewChanges', [{root: reviewRoot()}])),
    'quorum.reviewWorkspaceStaged': withClient((c) => execute(c, 'quorum.reviewStaged', [{root: reviewRoot()}])),
    'quorum.dismissAtCursor': needFile((c, uri) => {
      const line = vscode.window.activeTextEditor?.selection.active.line ?? 0;
      const fp = fingerprintOnLine(vscode.languages.getDiagnostics(uri), line);
      if (!fp) return vscode.window.showInformationMessage('quorum: no finding on this line.');
      return execute(c, 'quorum.dismiss', [uri.toString(), fp]);
    }),
    'quorum.clearFindings': withClient((c) => execute(c, 'quorum.clear', [])),
    'quorum.showLedger': withClient((c) => showLedger(c)),
    'quorum.showOutput': async () => showOutput(),
  };
}
