/*
 * Declared sizes for the files of an episode's servers (and of its workspace).
 *
 * A server file is a 48-byte stub: 32 bytes that name the file (its identity, which copies keep), then its declared
 * size XOR the identity's first 8 bytes, then a 64-bit FNV-1a checksum of the first 40 bytes. To the listing programs
 * (ls, stat, du, df, find, tree) a stub reports its declared size and blocks, and df reports the volume's use as the
 * sum of what its files declare on a 2 TiB disk. Every other program (cat, cp, scp, rsync, sftp-server, ...) sees the
 * 48 bytes as they are, so copies and transfers take no time and keep the identity.
 *
 * Loaded through /etc/ld.so.preload inside the sandboxes only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define STUB_BYTES 48
#define DISK_BYTES (2LL << 40)
#define BLOCK_BYTES 4096LL

extern char *program_invocation_short_name;

static int listing_program(void)
{
    static int known = -1;
    if (known < 0)
    {
        static const char *const names[] = {"ls", "stat", "du", "df", "find", "tree", 0};
        known = 0;
        for (int i = 0; names[i]; i++)
            if (strcmp(program_invocation_short_name, names[i]) == 0)
                known = 1;
    }
    return known;
}

static uint64_t fnv1a(const unsigned char *bytes, int n)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++)
    {
        h ^= bytes[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The declared size of the stub at dirfd/path, or -1 when it is not a stub. */
static long long declared(int dirfd, const char *path)
{
    int saved = errno;
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    long long size = -1;
    if (fd >= 0)
    {
        unsigned char b[STUB_BYTES];
        if (read(fd, b, STUB_BYTES) == STUB_BYTES)
        {
            uint64_t sum = 0, mixed = 0, key = 0;
            for (int i = 0; i < 8; i++)
            {
                sum |= (uint64_t)b[40 + i] << (8 * i);
                mixed |= (uint64_t)b[32 + i] << (8 * i);
                key |= (uint64_t)b[i] << (8 * i);
            }
            if (sum == fnv1a(b, 40))
                size = (long long)(mixed ^ key);
        }
        close(fd);
    }
    errno = saved;
    return size;
}

static long long blocks_of(long long size) { return (size + BLOCK_BYTES - 1) / BLOCK_BYTES * (BLOCK_BYTES / 512); }

static void patch(int dirfd, const char *path, struct stat *st)
{
    if (!listing_program() || !S_ISREG(st->st_mode) || st->st_size != STUB_BYTES)
        return;
    long long size = declared(dirfd, path);
    if (size >= 0)
    {
        st->st_size = size;
        st->st_blocks = blocks_of(size);
    }
}

int stat(const char *path, struct stat *st)
{
    static int (*real)(const char *, struct stat *);
    if (!real)
        real = dlsym(RTLD_NEXT, "stat");
    int r = real(path, st);
    if (r == 0)
        patch(AT_FDCWD, path, st);
    return r;
}

int lstat(const char *path, struct stat *st)
{
    static int (*real)(const char *, struct stat *);
    if (!real)
        real = dlsym(RTLD_NEXT, "lstat");
    int r = real(path, st);
    if (r == 0)
        patch(AT_FDCWD, path, st);
    return r;
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    static int (*real)(int, const char *, struct stat *, int);
    if (!real)
        real = dlsym(RTLD_NEXT, "fstatat");
    int r = real(dirfd, path, st, flags);
    if (r == 0 && *path)
        patch(dirfd, path, st);
    return r;
}

int stat64(const char *path, struct stat64 *st) { return stat(path, (struct stat *)st); }
int lstat64(const char *path, struct stat64 *st) { return lstat(path, (struct stat *)st); }
int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) { return fstatat(dirfd, path, (struct stat *)st, flags); }

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *st)
{
    static int (*real)(int, const char *, int, unsigned int, struct statx *);
    if (!real)
        real = dlsym(RTLD_NEXT, "statx");
    int r = real(dirfd, path, flags, mask, st);
    if (r == 0 && listing_program() && S_ISREG(st->stx_mode) && st->stx_size == STUB_BYTES && *path)
    {
        long long size = declared(dirfd, path);
        if (size >= 0)
        {
            st->stx_size = (uint64_t)size;
            st->stx_blocks = (uint64_t)blocks_of(size);
        }
    }
    return r;
}

/* df: the volume holding the path reports what its files declare, on a 2 TiB disk. */
static long long used;

static int add(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_F)
    {
        long long size = st->st_size == STUB_BYTES ? declared(AT_FDCWD, path) : -1;
        used += size >= 0 ? size : (long long)st->st_blocks * 512;
    }
    return 0;
}

static const char *volume(const char *path)
{
    static const char *const volumes[] = {"/data", "/workspace", 0};
    if (!path)
        return 0;
    for (int i = 0; volumes[i]; i++)
    {
        size_t n = strlen(volumes[i]);
        if (strncmp(path, volumes[i], n) == 0 && (path[n] == 0 || path[n] == '/'))
            return volumes[i];
    }
    return 0;
}

static void fill(const char *root, unsigned long *bsize, unsigned long *frsize, fsblkcnt_t *blocks, fsblkcnt_t *bfree,
                 fsblkcnt_t *bavail)
{
    used = 0;
    nftw(root, add, 16, FTW_PHYS);
    long long total = DISK_BYTES / BLOCK_BYTES, taken = (used + BLOCK_BYTES - 1) / BLOCK_BYTES;
    *bsize = BLOCK_BYTES;
    if (frsize)
        *frsize = BLOCK_BYTES;
    *blocks = total;
    *bfree = *bavail = taken < total ? total - taken : 0;
}

int statvfs(const char *path, struct statvfs *buf)
{
    static int (*real)(const char *, struct statvfs *);
    if (!real)
        real = dlsym(RTLD_NEXT, "statvfs");
    int r = real(path, buf);
    const char *root = volume(path);
    if (r == 0 && root && listing_program())
        fill(root, &buf->f_bsize, &buf->f_frsize, &buf->f_blocks, &buf->f_bfree, &buf->f_bavail);
    return r;
}

int statfs(const char *path, struct statfs *buf)
{
    static int (*real)(const char *, struct statfs *);
    if (!real)
        real = dlsym(RTLD_NEXT, "statfs");
    int r = real(path, buf);
    const char *root = volume(path);
    if (r == 0 && root && listing_program())
    {
        unsigned long bsize;
        fill(root, &bsize, 0, &buf->f_blocks, &buf->f_bfree, &buf->f_bavail);
        buf->f_bsize = (long)bsize;
        buf->f_frsize = (long)bsize;
    }
    return r;
}

int statvfs64(const char *path, struct statvfs64 *buf) { return statvfs(path, (struct statvfs *)buf); }
int statfs64(const char *path, struct statfs64 *buf) { return statfs(path, (struct statfs *)buf); }
