/*
 * store_walvfs: SQLite writes each WAL frame as two writes, its 24-byte
 * header and its page, one system call each: a commit of 14 pages (an
 * inbound SMS offered at 2,000 SMS/s) made 28 pwrite calls, about 15 % of
 * the server's CPU there (issue 12; docs/internals/store.md, "Commit
 * window"). SQLite has no setting for it, so this VFS over the default one
 * keeps the frames a connection appends to its WAL in memory, in order, and
 * hands them to the file in one write when anything needs them there:
 *
 *  - before the WAL is synced (synchronous=FULL: every commit), so what the
 *    fsync makes durable is exactly what it was before;
 *  - before the shared WAL index is published (SQLite's memory barrier on
 *    the database's shared memory, which precedes every update of the
 *    index's header): another connection or process never learns of a frame
 *    that is not in the file, whatever the synchronous setting;
 *  - before the WAL is read, truncated, sized or closed, before a write
 *    that is not the next one in order, and when 1 MiB is held (written
 *    96 KiB a call: the unix VFS takes less than 128 KiB a write).
 *
 * Nothing else changes: the same bytes at the same offsets, in the same
 * order relative to every sync. A failed write is reported by the call
 * that needed it (a sync: the commit fails and is rolled back as it would
 * have been; the next one may succeed: a full disk, then space). Other files (journals, temporary files) are the
 * default VFS's own. Hand-written because no library does it: SQLite's
 * VFS interface is the only way in.
 */
#include "store/store_walvfs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define WALVFS_HOLD_MAX (1 << 20)
/* the unix VFS writes at most 128 KiB - 1 bytes a call (seekAndWrite) */
#define WALVFS_WRITE_MAX (96 * 1024)

typedef struct wfile {
    sqlite3_file base;
    sqlite3_file *real;    /* the default VFS's file, after this struct */
    int is_wal;
    const char *name;      /* a database: the name SQLite opened it by */
    struct wfile *wal;     /* a database: its connection's WAL */
    struct wfile *db;      /* a WAL: its database */
    struct wfile *next;    /* open databases (dbs) */
    unsigned char *hold;   /* a WAL: frames not yet written */
    size_t n, cap;
    sqlite3_int64 at;      /* their offset in the file */
    int err;               /* held frames were lost after SQLite published them */
} wfile;

static sqlite3_vfs walvfs;
static sqlite3_vfs *deflt;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* dbs, registration */
static wfile *dbs;
static unsigned long long writes;

unsigned long long store_walvfs_writes(void)
{
    return __atomic_load_n(&writes, __ATOMIC_RELAXED);
}

static int real_write(wfile *f, const void *p, int n, sqlite3_int64 at)
{
    __atomic_add_fetch(&writes, 1, __ATOMIC_RELAXED);
    return f->real->pMethods->xWrite(f->real, p, n, at);
}

/* Writes the held frames; 0 or an SQLite error code. Failed, they are
 * dropped: the caller that needed them (a sync: the commit) fails, SQLite
 * rolls the transaction back and writes its frames again next time, as
 * after a failed write on the default VFS (a full disk, then space). */
static int flush(wfile *f)
{
    if (f->err)
        return f->err;
    int rc = SQLITE_OK;
    for (size_t done = 0, k; done < f->n && rc == SQLITE_OK; done += k) {
        k = f->n - done < WALVFS_WRITE_MAX ? f->n - done : WALVFS_WRITE_MAX;
        rc = real_write(f, f->hold + done, (int)k, f->at + (sqlite3_int64)done);
    }
    f->n = 0;
    return rc;
}

static int w_close(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    int rc = f->is_wal ? flush(f) : SQLITE_OK;
    pthread_mutex_lock(&lock);
    if (f->is_wal && f->db)
        f->db->wal = NULL;
    if (!f->is_wal) {
        if (f->wal)
            f->wal->db = NULL;
        for (wfile **q = &dbs; *q; q = &(*q)->next)
            if (*q == f) {
                *q = f->next;
                break;
            }
    }
    pthread_mutex_unlock(&lock);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->hold);
    return rc != SQLITE_OK ? rc : rc2;
}

static int w_read(sqlite3_file *p, void *buf, int n, sqlite3_int64 at)
{
    wfile *f = (wfile *)p;
    int rc = f->is_wal ? flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, buf, n, at);
}

static int w_write(sqlite3_file *p, const void *buf, int n, sqlite3_int64 at)
{
    wfile *f = (wfile *)p;
    if (!f->is_wal)
        return real_write(f, buf, n, at);
    if (f->err)
        return f->err;
    if (f->n && at != f->at + (sqlite3_int64)f->n) { /* not the next in order */
        int rc = flush(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    if (f->n + (size_t)n > WALVFS_HOLD_MAX) {
        int rc = flush(f);
        if (rc != SQLITE_OK)
            return rc;
        if ((size_t)n > WALVFS_HOLD_MAX)
            return real_write(f, buf, n, at);
    }
    if (f->n == 0)
        f->at = at;
    if (f->n + (size_t)n > f->cap) {
        size_t cap = f->cap ? f->cap : 64 * 1024;
        while (cap < f->n + (size_t)n)
            cap *= 2;
        unsigned char *h = realloc(f->hold, cap);
        if (!h) {
            int rc = flush(f);
            return rc != SQLITE_OK ? rc : real_write(f, buf, n, at);
        }
        f->hold = h;
        f->cap = cap;
    }
    memcpy(f->hold + f->n, buf, (size_t)n);
    f->n += (size_t)n;
    return SQLITE_OK;
}

static int w_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    wfile *f = (wfile *)p;
    int rc = f->is_wal ? flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int w_sync(sqlite3_file *p, int flags)
{
    wfile *f = (wfile *)p;
    int rc = f->is_wal ? flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int w_size(sqlite3_file *p, sqlite3_int64 *size)
{
    wfile *f = (wfile *)p;
    int rc = f->is_wal ? flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int w_lock(sqlite3_file *p, int l)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xLock(f->real, l);
}

static int w_unlock(sqlite3_file *p, int l)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xUnlock(f->real, l);
}

static int w_reserved(sqlite3_file *p, int *out)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int w_control(sqlite3_file *p, int op, void *arg)
{
    wfile *f = (wfile *)p;
    if (op == SQLITE_FCNTL_VFSNAME) { /* what it is: ours over the default */
        char *inner = NULL;
        f->real->pMethods->xFileControl(f->real, op, &inner);
        *(char **)arg = sqlite3_mprintf("%s/%s", STORE_WALVFS_NAME, inner ? inner : "");
        sqlite3_free(inner);
        return SQLITE_OK;
    }
    int rc = f->is_wal ? flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int w_sector(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xSectorSize(f->real);
}

static int w_device(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int w_shm_map(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **out)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, out);
}

static int w_shm_lock(sqlite3_file *p, int off, int n, int flags)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xShmLock(f->real, off, n, flags);
}

/* SQLite's barrier before it publishes the WAL index: the frames first. */
static void w_shm_barrier(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    /* Nothing is held here when every commit syncs (synchronous=FULL, the
     * server). Without the sync, frames lost now may be named by the index
     * SQLite publishes next: the WAL refuses every later call, so this
     * connection stops (a restart's recovery checks every frame). */
    if (f->wal && flush(f->wal) != SQLITE_OK)
        f->wal->err = SQLITE_IOERR_WRITE;
    f->real->pMethods->xShmBarrier(f->real);
}

static int w_shm_unmap(sqlite3_file *p, int del)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int w_fetch(sqlite3_file *p, sqlite3_int64 at, int n, void **out)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xFetch(f->real, at, n, out);
}

static int w_unfetch(sqlite3_file *p, sqlite3_int64 at, void *page)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xUnfetch(f->real, at, page);
}

static const sqlite3_io_methods W_METHODS = {
    3,         w_close,   w_read,     w_write,       w_truncate,  w_sync,
    w_size,    w_lock,    w_unlock,   w_reserved,    w_control,   w_sector,
    w_device,  w_shm_map, w_shm_lock, w_shm_barrier, w_shm_unmap, w_fetch,
    w_unfetch,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags,
                  int *out_flags)
{
    (void)vfs;
    if (!(flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) /* the default's own */
        return deflt->xOpen(deflt, name, p, flags, out_flags);
    wfile *f = (wfile *)p;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)p + ((sizeof *f + 15) & ~(size_t)15));
    int rc = deflt->xOpen(deflt, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        if (f->real->pMethods)
            f->real->pMethods->xClose(f->real);
        p->pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->base.pMethods = &W_METHODS;
    pthread_mutex_lock(&lock);
    if (flags & SQLITE_OPEN_MAIN_DB) {
        f->name = name;
        f->next = dbs;
        dbs = f;
    } else { /* a WAL: held only when its database (its connection) is known */
        const char *db = name ? sqlite3_filename_database(name) : NULL;
        for (wfile *d = dbs; d && db; d = d->next)
            if (d->name == db && !d->wal) {
                f->is_wal = 1;
                f->db = d;
                d->wal = f;
                break;
            }
    }
    pthread_mutex_unlock(&lock);
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync)
{
    (void)v;
    return deflt->xDelete(deflt, name, sync);
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return deflt->xAccess(deflt, name, flags, out);
}

static int v_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return deflt->xFullPathname(deflt, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return deflt->xDlOpen(deflt, name);
}

static void v_dlerror(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    deflt->xDlError(deflt, n, out);
}

static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return deflt->xDlSym(deflt, h, sym);
}

static void v_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    deflt->xDlClose(deflt, h);
}

static int v_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return deflt->xRandomness(deflt, n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return deflt->xSleep(deflt, us);
}

static int v_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return deflt->xCurrentTime(deflt, out);
}

static int v_lasterr(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return deflt->xGetLastError ? deflt->xGetLastError(deflt, n, out) : 0;
}

static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return deflt->xCurrentTimeInt64(deflt, out);
}

int store_walvfs_register(void)
{
    int rc = SQLITE_OK;
    pthread_mutex_lock(&lock);
    if (!deflt) {
        sqlite3_vfs *d = sqlite3_vfs_find(NULL);
        if (!d || d->iVersion < 2) {
            rc = SQLITE_ERROR;
        } else {
            walvfs = (sqlite3_vfs){
                .iVersion = 2,
                .szOsFile = (int)((sizeof(wfile) + 15) & ~(size_t)15) + d->szOsFile,
                .mxPathname = d->mxPathname,
                .zName = STORE_WALVFS_NAME,
                .xOpen = v_open,
                .xDelete = v_delete,
                .xAccess = v_access,
                .xFullPathname = v_fullpath,
                .xDlOpen = v_dlopen,
                .xDlError = v_dlerror,
                .xDlSym = v_dlsym,
                .xDlClose = v_dlclose,
                .xRandomness = v_random,
                .xSleep = v_sleep,
                .xCurrentTime = v_time,
                .xGetLastError = v_lasterr,
                .xCurrentTimeInt64 = v_time64,
            };
            deflt = d;
            if ((rc = sqlite3_vfs_register(&walvfs, 0)) != SQLITE_OK)
                deflt = NULL;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}
