/*
 * restrict.c: socdir-restrict, a test tool. Runs a command under two of
 * the unit's restrictions, made with a seccomp filter as systemd makes
 * them, so that tests can run the node under them without systemd:
 *   --families "AF_UNIX AF_INET ..."  RestrictAddressFamilies=: socket(2)
 *                                     of any other family fails EAFNOSUPPORT
 *   --deny-setrlimit                  SystemCallFilter=~@resources with
 *                                     SystemCallErrorNumber=EPERM, as far
 *                                     as the node meets it: setrlimit and
 *                                     prlimit64 with a new limit fail EPERM
 * and no_new_privs (NoNewPrivileges=), which seccomp needs anyway.
 * usage: socdir-restrict [--families LIST] [--deny-setrlimit] CMD [ARGS...]
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXF 16

static struct sock_filter
s_stmt(unsigned short code, unsigned k)
{
    return (struct sock_filter)BPF_STMT(code, k);
}

/* Jumps jt instructions ahead when the loaded word is k, else jf. */
static struct sock_filter
s_jeq(unsigned k, unsigned char jt, unsigned char jf)
{
    return (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
}

#define RET(v) s_stmt(BPF_RET | BPF_K, (v))
#define LOAD(off) s_stmt(BPF_LD | BPF_W | BPF_ABS, (unsigned)(off))
#define ARG(field) offsetof(struct seccomp_data, field)

static const struct { const char *name; int af; } s_names[] = {
    { "AF_UNIX", AF_UNIX }, { "AF_INET", AF_INET }, { "AF_INET6", AF_INET6 },
    { "AF_NETLINK", AF_NETLINK }, { "AF_PACKET", AF_PACKET },
};

/* The families of a space- or comma-separated LIST into af; returns how
 * many, or -1 for a name it does not know. */
static int
s_families(char *list, int *af)
{
    int n = 0;
    for (char *w = strtok(list, " ,"); w != NULL; w = strtok(NULL, " ,")) {
        size_t i = 0;
        while (i < sizeof(s_names) / sizeof(s_names[0]) && strcmp(s_names[i].name, w) != 0)
            i++;
        if (i == sizeof(s_names) / sizeof(s_names[0]) || n == MAXF) {
            fprintf(stderr, "socdir-restrict: unknown family %s\n", w);
            return -1;
        }
        af[n++] = s_names[i].af;
    }
    return n;
}

int
main(int argc, char **argv)
{
    int af[MAXF], naf = -1, i = 1;
    int deny_rlimit = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--families") == 0 && i + 1 < argc) {
            if ((naf = s_families(argv[++i], af)) < 0)
                return 2;
        } else if (strcmp(argv[i], "--deny-setrlimit") == 0) {
            deny_rlimit = 1;
        } else {
            break;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: socdir-restrict [--families LIST] [--deny-setrlimit] CMD [ARGS...]\n");
        return 2;
    }

    struct sock_filter f[64];
    size_t n = 0;
    f[n++] = LOAD(ARG(nr));
    if (deny_rlimit) {
        f[n++] = s_jeq(__NR_setrlimit, 0, 1);
        f[n++] = RET(SECCOMP_RET_ERRNO | EPERM);
        /* prlimit64(pid, resource, new, old): only a new limit is refused. */
        f[n++] = s_jeq(__NR_prlimit64, 0, 6);
        f[n++] = LOAD(ARG(args[2]));
        f[n++] = s_jeq(0, 0, 2);
        f[n++] = LOAD(ARG(args[2]) + 4);
        f[n++] = s_jeq(0, 1, 0);
        f[n++] = RET(SECCOMP_RET_ERRNO | EPERM);
        f[n++] = RET(SECCOMP_RET_ALLOW);
    }
    if (naf >= 0) {
        f[n++] = s_jeq(__NR_socket, 0, (unsigned char)(naf + 2));
        f[n++] = LOAD(ARG(args[0]));
        for (int k = 0; k < naf; k++)
            f[n++] = s_jeq((unsigned)af[k], (unsigned char)(naf - k), 0);
        f[n++] = RET(SECCOMP_RET_ERRNO | EAFNOSUPPORT);
    }
    f[n++] = RET(SECCOMP_RET_ALLOW);

    struct sock_fprog prog = { (unsigned short)n, f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("socdir-restrict: seccomp");
        return 125;
    }
    execvp(argv[i], argv + i);
    perror(argv[i]);
    return 127;
}
