/* extension.ts — activation: starts quorum-ls through vscode-languageclient and wires the
 * settings (settings.ts), the diagnostics filter, the status bar (status.ts) and the palette
 * commands (commands.ts). Everything created here is disposed through context.subscriptions. */
import * as os from 'os';
import * as vscode from 'vscode';
import {
  LanguageClient, LanguageClientOptions, State, TransportKind, WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';
import {commandHandlers} from './commands';
import {answerConfiguration, LANGUAGES, pushDiagnosticsOnly} from './protocol';
import {
  keepDiagnostic, PathContext, serverCommand, serverSettings, thresholds, workspaceAttempts,
} from './settings';
import {ReviewStatus} from './status';

let client: LanguageClient | undefined;
/* Set by activate(). */
let extensionPath = '';
let output: vscode.OutputChannel;
let status: ReviewStatus;

const settingsFor = (scope?: vscode.Uri) => vscode.workspace.getConfiguration('quorum', scope);

function pathContext(): PathContext {
  return {folders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), home: os.homedir()};
}

/** Refusals are shown once per settings change, not on every configuration request. */
const told = new Set<string>();
function tellOnce(msg: string): void {
  if (told.has(msg)) return;
  told.add(msg);
  output.appendLine(`quorum: ${msg}`);
  void vscode.window.showErrorMessage(`quorum: ${msg}`);
}

const settingsNow = (scope?: vscode.Uri) => serverSettings(settingsFor(scope), pathContext(), tellOnce);

/** The last unfiltered diagnostics of each document, so a changed threshold can re-filter them. */
type Publish = (uri: vscode.Uri, diagnostics: vscode.Diagnostic[]) => void;
const published = new Map<string, {uri: vscode.Uri; all: vscode.Diagnostic[]; next: Publish}>();

function showFiltered(uri: vscode.Uri, all: vscode.Diagnostic[], next: Publish): void {
  const t = thresholds(settingsFor(uri));
  /* vscode.DiagnosticSeverity counts from 0 (Error); LSP from 1. */
  next(uri, all.filter((d) => keepDiagnostic(t, d.severity + 1, (d as {data?: unknown}).data)));
}

function clientOptions(): LanguageClientOptions {
  return {
    documentSelector: LANGUAGES.map((language) => ({scheme: 'file', language})),
    outputChannel: output,
    initializationOptions: settingsNow(),
    middleware: {
      handleDiagnostics(uri, diagnostics, next) {
        published.set(uri.toString(), {uri, all: diagnostics, next});
        showFiltered(uri, diagnostics, next);
      },
      workspace: {
        async configuration(params, token, next) {
          const fallback = await next(params, token);
          return answerConfiguration(params.items, Array.isArray(fallback) ? fallback : [],
                                     (scope) => settingsNow(scope ? vscode.Uri.parse(scope) : undefined));
        },
      },
    },
  };
}

/** Follows each review's progress token into the status bar (instead of a notification per save). */
function trackProgress(c: LanguageClient): void {
  c.onRequest(WorkDoneProgressCreateRequest.type, ({token}) => {
    const sub = c.onProgress(WorkDoneProgress.type, token, (v) => {
      status.update(String(token), v);
      if (v.kind === 'end') sub.dispose();
    });
    return null;
  });
}

/** A server that went away takes its findings with it (they could no longer be dismissed). */
function clearFindings(c: LanguageClient): void {
  c.diagnostics?.clear();
  published.clear();
}

/** A client for the server the settings name now (undefined, said, when none may run). */
function createClient(): LanguageClient | undefined {
  const s = settingsFor();
  for (const k of workspaceAttempts(s))
    tellOnce(`${k} in the workspace settings is ignored: only your user settings can set it.`);
  const cmd = serverCommand(s, extensionPath, pathContext());
  if (cmd.error) {
    tellOnce(cmd.error);
    return undefined;
  }
  output.appendLine(`quorum: starting ${cmd.command} (${cmd.source})`);
  /* Started from the home folder: nothing the server resolves lands in a workspace by accident. */
  const run = {command: cmd.command, args: cmd.args, transport: TransportKind.stdio, options: {cwd: os.homedir()}};
  /* The id "quorum" makes languageclient read quorum.trace.server. */
  const c = new LanguageClient('quorum', 'quorum', {run, debug: run}, clientOptions());
  c.registerFeature({
    fillClientCapabilities: (caps) => void pushDiagnosticsOnly(caps),
    /* Initialized after languageclient's own progress feature on every (re)start, so this
     * handler replaces its notifications each time, not only after the first start. */
    initialize: () => trackProgress(c),
    getState: () => ({kind: 'static'}),
    clear: () => undefined,
  });
  c.onDidChangeState(({newState}) => {
    status.reset();
    if (newState === State.Stopped) clearFindings(c);
  });
  return c;
}

async function startClient(): Promise<void> {
  const c = (client = createClient());
  try {
    await c?.start();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `quorum: cannot start quorum-ls (${e instanceof Error ? e.message : String(e)}); set quorum.server.path.`);
  }
}

async function stopClient(): Promise<void> {
  const old = client;
  client = undefined;
  await old?.dispose().catch(() => undefined); /* a client that never started cannot stop */
  if (old) clearFindings(old);
}

/** A new server path means a new client: the old one's command was fixed when it was made.
 * Restarts run one after the other, so quick setting changes never leave two servers. */
let restarting: Promise<void> = Promise.resolve();
function restartClient(): Promise<void> {
  restarting = restarting.then(stopClient).then(startClient);
  return restarting;
}

function onSettingsChanged(e: vscode.ConfigurationChangeEvent): void {
  if (!e.affectsConfiguration('quorum')) return;
  told.clear();
  if (e.affectsConfiguration('quorum.server')) {
    void vscode.window.showInformationMessage('quorum: restarting the server with the new path.');
    void restartClient();
    return;
  }
  if (!client) return;
  void client.sendNotification('workspace/didChangeConfiguration', {settings: {quorum: settingsNow()}});
  for (const p of published.values()) showFiltered(p.uri, p.all, p.next);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('quorum');
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  item.command = 'quorum.showOutput';
  status = new ReviewStatus(item);
  extensionPath = context.extensionPath;
  context.subscriptions.push(output, item);

  const handlers = commandHandlers(() => client, () => output.show(true));
  for (const [id, run] of Object.entries(handlers))
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(onSettingsChanged));
  await startClient();
}

export async function deactivate(): Promise<void> {
  await restarting;
  await stopClient();
}
