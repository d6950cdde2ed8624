package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// stops is the shutdown of everything serve has started, in the order it
// started. run stops it newest first, on every way out of serve: the
// normal end and any error half-way through start, so no listener,
// goroutine or data dir lock outlives serve.
type stops struct {
	logger *slog.Logger
	mu     sync.Mutex
	steps  []stopStep
}

type stopStep struct {
	what string
	stop func() error
}

// add registers how to stop what was just started.
func (s *stops) add(what string, stop func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, stopStep{what, stop})
}

// goroutine runs fn on its own goroutine; stopping cancels fn's context
// and waits for fn to return.
func (s *stops) goroutine(what string, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn(ctx)
	}()
	s.add(what, func() error { cancel(); wg.Wait(); return nil })
}

// httpServer serves h on ln (request headers read within 10 s) on its own
// goroutine; stopping closes the server, ln and its connections, and waits
// for Serve to return.
func (s *stops) httpServer(what string, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln) // closes ln when it returns, even after Close
	}()
	s.add(what, func() error {
		err := srv.Close()
		<-served
		return err
	})
}

// run stops every registered step, newest first, and forgets them, so a
// second run does nothing. Each failure is logged; the result joins them.
func (s *stops) run() error {
	s.mu.Lock()
	steps := s.steps
	s.steps = nil
	s.mu.Unlock()
	var errs []error
	for i := len(steps) - 1; i >= 0; i-- {
		if err := steps[i].stop(); err != nil {
			s.logger.Warn("stop "+steps[i].what, "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", steps[i].what, err))
		}
	}
	return errors.Join(errs...)
}
