/*
 * store_walvfs: an SQLite VFS ("textdesk-wal") over the default one that
 * writes a transaction's WAL frames to the file in one write instead of
 * two per page (store_walvfs.c says why and when they reach the file).
 */
#ifndef TEXTDESK_STORE_WALVFS_H
#define TEXTDESK_STORE_WALVFS_H

#define STORE_WALVFS_NAME "textdesk-wal"

/* Registers the VFS once (not as the default); 0, or an SQLite error code.
 * Safe to call from every open. */
int store_walvfs_register(void);

/* The writes this process's textdesk-wal files have passed to the file
 * system so far (WAL and database files): what a test counts. */
unsigned long long store_walvfs_writes(void);

#endif
