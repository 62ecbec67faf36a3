/*
 * The pause container's program: keeps a pod's namespaces open, reaps the zombies that
 * land on it as PID 1, and exits 0 on SIGINT or SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_terminate(int signal_number) {
  (void)signal_number;
  _exit(0);
}

static void on_child(int signal_number) {
  (void)signal_number;
  int saved_errno = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved_errno;
}

static void install(int signal_number, void (*handler)(int), int flags) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigemptyset(&action.sa_mask);
  if (sigaction(signal_number, &action, NULL) < 0) {
    perror("pause: sigaction");
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("pause (container-runtime hack/images)");
    return 0;
  }
  if (getpid() != 1) {
    fputs("pause: warning: not running as PID 1, zombies of other processes stay\n", stderr);
  }
  install(SIGINT, on_terminate, 0);
  install(SIGTERM, on_terminate, 0);
  install(SIGCHLD, on_child, SA_NOCLDSTOP);
  for (;;) {
    pause();
  }
}
