//go:build unix

package main

import "syscall"

// restrictUmask makes every file and directory the process creates private
// to its user (0600 and 0700), whatever modes the libraries ask for: Pebble
// and Raft's snapshot store create theirs 0644 and 0755.
func restrictUmask() { syscall.Umask(0o077) }
