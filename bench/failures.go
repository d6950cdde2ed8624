package main

import (
	"sync"
	"sync/atomic"
)

// failures counts failed operations of a scenario and keeps the first
// error for the report. Safe for concurrent use.
type failures struct {
	n     atomic.Int64
	mu    sync.Mutex
	first string
}

// add counts err and keeps it if it is the first.
func (f *failures) add(err error) {
	f.n.Add(1)
	f.mu.Lock()
	if f.first == "" {
		f.first = err.Error()
	}
	f.mu.Unlock()
}

// count is how many failed.
func (f *failures) count() int64 { return f.n.Load() }

// firstError is the first failure's text, "" if none failed.
func (f *failures) firstError() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first
}
