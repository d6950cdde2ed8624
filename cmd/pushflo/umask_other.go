//go:build !unix

package main

// restrictUmask does nothing where there is no umask; restrictDataDir still
// tightens the data directory at start.
func restrictUmask() {}
