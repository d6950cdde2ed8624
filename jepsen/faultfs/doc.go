// Package faultfs is a FUSE filesystem for fault injection under a
// process's data directory: it passes every operation through to a backing
// directory, remembers what the disk would hold if the power failed now,
// and on demand loses it (PowerCut) or fails calls (fsync with EIO, writes
// with ENOSPC), the way Jepsen's LazyFS does.
//
// Data comes from the process under test through the kernel's FUSE device
// (mounted by the test process itself with mount(2), no fusermount), goes
// to the backing directory at once, and is shadowed by records of the
// bytes the disk still holds: a write to a range the disk has saves the
// backing bytes it replaces; fsync (or fdatasync) drops the file's records
// and takes its size as durable. PowerCut, with the process killed,
// writes every record back and truncates each file to its durable size:
// what was not fsynced is gone. Metadata
// operations (create, rename, unlink, mkdir) are durable at once; a file
// created and never fsynced survives a power cut empty.
//
// A failed fsync follows Linux's behaviour that burned PostgreSQL
// ("fsyncgate"): the pages it could not write are marked clean, so the
// data written before it stays lost at the next power cut even if a later
// fsync succeeds, unless it is written again. A program that retries the
// fsync and trusts the success acknowledges data a power cut then loses.
//
// Only Linux is supported; the package is used by the jepsen harness's
// power-loss and disk-error nemeses.
package faultfs
