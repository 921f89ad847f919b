/* extension.ts — activation: starts quorum-ls through vscode-languageclient and wires the
 * settings (settings.ts), the diagnostics filter, the status bar (status.ts) and the palette
 * commands (commands.ts). Everything created here is disposed through context.subscriptions. */
import * as vscode from 'vscode';
import {
  LanguageClient, LanguageClientOptions, ServerOptions, TransportKind, WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';
import {commandHandlers} from './commands';
import {answerConfiguration, LANGUAGES, pushDiagnosticsOnly} from './protocol';
import {keepDiagnostic, serverCommand, serverSettings, thresholds} from './settings';
import {ReviewStatus} from './status';

let client: LanguageClient | undefined;

const settingsFor = (scope?: vscode.Uri) => vscode.workspace.getConfiguration('quorum', scope);

/** The last unfiltered diagnostics of each document, so a changed threshold can re-filter them. */
type Publish = (uri: vscode.Uri, diagnostics: vscode.Diagnostic[]) => void;
const published = new Map<string, {uri: vscode.Uri; all: vscode.Diagnostic[]; next: Publish}>();

function showFiltered(uri: vscode.Uri, all: vscode.Diagnostic[], next: Publish): void {
  const t = thresholds(settingsFor(uri));
  /* vscode.DiagnosticSeverity counts from 0 (Error); LSP from 1. */
  next(uri, all.filter((d) => keepDiagnostic(t, d.severity + 1, (d as {data?: unknown}).data)));
}

function clientOptions(output: vscode.OutputChannel): LanguageClientOptions {
  return {
    documentSelector: LANGUAGES.map((language) => ({scheme: 'file', language})),
    outputChannel: output,
    initializationOptions: serverSettings(settingsFor()),
    middleware: {
      handleDiagnostics(uri, diagnostics, next) {
        published.set(uri.toString(), {uri, all: diagnostics, next});
        showFiltered(uri, diagnostics, next);
      },
      workspace: {
        async configuration(params, token, next) {
          const fallback = await next(params, token);
          return answerConfiguration(params.items, Array.isArray(fallback) ? fallback : [],
                                     (scope) => serverSettings(settingsFor(scope ? vscode.Uri.parse(scope) : undefined)));
        },
      },
    },
  };
}

/** Follows each review's progress token into the status bar (instead of a notification per save). */
function trackProgress(c: LanguageClient, status: ReviewStatus): void {
  c.onRequest(WorkDoneProgressCreateRequest.type, ({token}) => {
    const sub = c.onProgress(WorkDoneProgress.type, token, (v) => {
      status.update(String(token), v);
      if (v.kind === 'end') sub.dispose();
    });
    return null;
  });
}

function onSettingsChanged(e: vscode.ConfigurationChangeEvent): void {
  if (!client || !e.affectsConfiguration('quorum')) return;
  if (e.affectsConfiguration('quorum.server')) {
    void vscode.window.showInformationMessage('quorum: restarting the server with the new path.');
    void client.restart();
    return;
  }
  void client.sendNotification('workspace/didChangeConfiguration', {settings: {quorum: serverSettings(settingsFor())}});
  for (const p of published.values()) showFiltered(p.uri, p.all, p.next);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('quorum');
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  item.command = 'quorum.showOutput';
  const status = new ReviewStatus(item);
  context.subscriptions.push(output, item);

  const {command, args} = serverCommand(settingsFor(), context.extensionPath);
  const run = {command, args, transport: TransportKind.stdio};
  const server: ServerOptions = {run, debug: run};
  /* The id "quorum" makes languageclient read quorum.trace.server. */
  const c = new LanguageClient('quorum', 'quorum', server, clientOptions(output));
  c.registerFeature({
    fillClientCapabilities: (caps) => void pushDiagnosticsOnly(caps),
    initialize: () => undefined,
    getState: () => ({kind: 'static'}),
    clear: () => undefined,
  });
  client = c;

  const handlers = commandHandlers(() => client, () => output.show(true));
  for (const [id, run] of Object.entries(handlers))
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(onSettingsChanged));
  c.onDidChangeState(() => status.reset());
  try {
    await c.start();
    trackProgress(c, status);
  } catch (e) {
    void vscode.window.showErrorMessage(
      `quorum: cannot start ${command} (${e instanceof Error ? e.message : String(e)}); set quorum.server.path.`);
  }
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  published.clear();
  if (c) await c.stop();
}
