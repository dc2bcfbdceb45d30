/*
 * ident.c: key file handling. The file holds the 64-byte libsodium secret
 * key (seed followed by public key). It is created with O_EXCL so an
 * existing identity is never replaced, and its public half is checked
 * against the seed on load.
 */
#include "ident.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ident {
    uint8_t pk[ENV_PKBYTES];        /* public key: the node id */
    uint8_t sk[ENV_SKBYTES];        /* secret key, wiped on destroy */
    char id[NODEID_LEN + 1];        /* pk printed */
};

static char *
s_path(const char *dir)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, IDENT_FILE) < 0)
        abort();
    return path;
}

ident_t *
ident_create(const char *dir, char *err, size_t errlen)
{
    ident_t *self = NULL;
    char *path = s_path(dir);

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        seterr(err, errlen, -1, "%s: %s", dir, strerror(errno));
        goto out;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        seterr(err, errlen, -1, errno == EEXIST ? "%s: a key exists already; refusing to overwrite it"
                                                : "%s: %s", path, strerror(errno));
        goto out;
    }
    self = sodium_malloc(sizeof(*self));
    if (self == NULL)
        abort();
    crypto_sign_keypair(self->pk, self->sk);
    key_to_id(self->pk, self->id);
    ssize_t n = write(fd, self->sk, sizeof(self->sk));
    if (n != (ssize_t)sizeof(self->sk) || fsync(fd) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, n < 0 ? strerror(errno) : "short write");
        close(fd);
        unlink(path);
        ident_destroy(&self);
        goto out;
    }
    close(fd);
out:
    free(path);
    return self;
}

ident_t *
ident_load(const char *dir, char *err, size_t errlen)
{
    ident_t *self = NULL;
    char *path = s_path(dir);
    struct stat st;

    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        seterr(err, errlen, -1, "%s: %s (create one with: socdir-node init %s)", path,
               strerror(errno), dir);
        goto out;
    }
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        seterr(err, errlen, -1, "%s: readable by group or others; chmod 600 it", path);
        close(fd);
        goto out;
    }
    self = sodium_malloc(sizeof(*self));
    if (self == NULL)
        abort();
    ssize_t n = read(fd, self->sk, sizeof(self->sk));
    close(fd);
    if (n != (ssize_t)sizeof(self->sk) || st.st_size != (off_t)sizeof(self->sk)) {
        seterr(err, errlen, -1, "%s: not a socdir key file (expected %zu bytes)", path,
               sizeof(self->sk));
        ident_destroy(&self);
        goto out;
    }
    uint8_t check_pk[ENV_PKBYTES], check_sk[ENV_SKBYTES];
    crypto_sign_seed_keypair(check_pk, check_sk, self->sk);
    int same = sodium_memcmp(check_sk, self->sk, sizeof(check_sk)) == 0;
    sodium_memzero(check_sk, sizeof(check_sk));
    if (!same) {
        seterr(err, errlen, -1, "%s: damaged key file (public half does not match)", path);
        ident_destroy(&self);
        goto out;
    }
    crypto_sign_ed25519_sk_to_pk(self->pk, self->sk);
    key_to_id(self->pk, self->id);
out:
    free(path);
    return self;
}

int
ident_peek(const char *dir, uint8_t pk[ENV_PKBYTES])
{
    ident_t *self = NULL;
    char *path = s_path(dir);
    struct stat st;
    int rc = -1;

    int fd = open(path, O_RDONLY);
    free(path);
    if (fd < 0)
        return -1;
    self = sodium_malloc(sizeof(*self));
    if (self == NULL)
        abort();
    if (fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof(self->sk) &&
        read(fd, self->sk, sizeof(self->sk)) == (ssize_t)sizeof(self->sk)) {
        crypto_sign_ed25519_sk_to_pk(pk, self->sk);
        rc = 0;
    }
    close(fd);
    ident_destroy(&self);
    return rc;
}

void
ident_destroy(ident_t **self_p)
{
    if (*self_p) {
        sodium_free(*self_p);   /* zeroes the memory before freeing it */
        *self_p = NULL;
    }
}

const uint8_t *
ident_pk(const ident_t *self)
{
    return self->pk;
}

const char *
ident_id(const ident_t *self)
{
    return self->id;
}

int
ident_seal(const ident_t *self, const entry_hdr_t *h, const json_t *body,
           msgpack_sbuffer *out, uint8_t vid[ENV_VIDBYTES], char *err, size_t errlen)
{
    return envelope_seal(h, body, self->sk, out, vid, err, errlen);
}

int
ident_curve(const ident_t *self, uint8_t pk[32], uint8_t sk[32])
{
    if (crypto_sign_ed25519_pk_to_curve25519(pk, self->pk) != 0)
        return -1;
    return crypto_sign_ed25519_sk_to_curve25519(sk, self->sk);
}
