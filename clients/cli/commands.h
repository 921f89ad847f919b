/* commands.h — the entry points of the CLI's commands, which main() in quorum.c dispatches
 * to; each command uses cli.h and none of them calls main's file back. */
#ifndef QR_COMMANDS_H
#define QR_COMMANDS_H

/* Commands. argv[0] is the command name. */
int cli_install_hook(int argc, char **argv);
int cli_pr(int argc, char **argv);
int cli_ledger(int argc, char **argv); /* ledger.c */
int cli_cache(int argc, char **argv);  /* ledger.c */

#endif
