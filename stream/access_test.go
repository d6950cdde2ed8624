package stream

import (
	"slices"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testwait"
)

// TestConn_AccessRechecked: access is a property of the whole connection.
// A channel made private stops live delivery at the next message, reaches
// idle subscribers through the periodic check, stops a replay before it
// queues anything, and without a revoke hook fails the connection with
// CloseForbidden; a token's expiry fails it with CloseTokenExpired unless
// refreshed first.
func TestConn_AccessRechecked(t *testing.T) {
	t.Run("next live message", func(t *testing.T) {
		f := newFixture(t, Config{AccessInterval: time.Hour})
		s := f.open(true)
		s.publicOnlyAccess()
		if err := s.c.Subscribe("p", []string{"p"}, 0, false, nil); err != nil {
			t.Fatal(err)
		}
		first := f.publish("p", 1, 40)
		testwait.For(t, "the public message", func() bool { return len(s.got()) == 1 })
		f.setPrivate("p", true)
		f.publish("p", 3, 40)
		testwait.For(t, "the subscription revoked", func() bool { return len(s.revocations()) == 1 })
		if r := s.revocations(); r[0] != "p/p" {
			t.Fatalf("revoked %v, want p/p", r)
		}
		if got := s.got(); !equal(got, first) {
			t.Fatalf("delivered %d messages, want only the one published while public", len(got))
		}
		if n := f.hub.SubscriberCount("p"); n != 0 {
			t.Fatalf("%d subscriptions left on p", n)
		}
	})
	t.Run("idle subscriber", func(t *testing.T) {
		f := newFixture(t, Config{AccessInterval: 10 * time.Millisecond})
		s := f.open(true)
		s.publicOnlyAccess()
		if err := s.c.Subscribe("p", []string{"p"}, 0, false, nil); err != nil {
			t.Fatal(err)
		}
		f.setPrivate("p", true)
		testwait.For(t, "an idle subscription revoked by the periodic check", func() bool { return len(s.revocations()) == 1 })
	})
	t.Run("replay", func(t *testing.T) {
		f := newFixture(t, Config{AccessInterval: time.Hour})
		f.publish("p", 20, 40)
		f.setPrivate("p", true)
		s := f.open(true)
		s.publicOnlyAccess()
		if err := s.c.Subscribe("p", []string{"p"}, 0, true, nil); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the resuming subscription revoked", func() bool { return len(s.revocations()) == 1 })
		if got := s.got(); len(got) != 0 {
			t.Fatalf("a replay of a private channel queued %d messages", len(got))
		}
	})
	t.Run("no hook fails the connection", func(t *testing.T) {
		f := newFixture(t, Config{AccessInterval: time.Hour})
		s := f.open(true)
		may, _ := s.publicOnly()
		s.c.SetAccess(may, time.Time{}, nil)
		if err := s.c.Subscribe("", []string{"a", "p"}, 0, false, nil); err != nil {
			t.Fatal(err)
		}
		f.setPrivate("p", true)
		f.publish("p", 1, 40)
		testwait.For(t, "the connection failed", func() bool { return s.closeReason() != nil })
		if r := s.closeReason(); r.Kind != CloseForbidden || r.Channel != "p" {
			t.Fatalf("close reason %+v, want CloseForbidden on p", r)
		}
	})
	t.Run("refresh granting less", func(t *testing.T) {
		f := newFixture(t, Config{AccessInterval: time.Hour})
		s := f.open(true)
		_, hook := s.publicOnly()
		s.c.SetAccess(nil, time.Time{}, hook)
		for _, ch := range []string{"a", "b"} {
			if err := s.c.Subscribe(ch, []string{ch}, 0, false, nil); err != nil {
				t.Fatal(err)
			}
		}
		// The new credential reads only a: b is revoked at once.
		s.c.SetAccess(func(ch string, _ bool) bool { return ch == "a" }, time.Time{}, hook)
		if r := s.revocations(); !slices.Equal(r, []string{"b/b"}) {
			t.Fatalf("revoked %v, want [b/b]", r)
		}
	})
	t.Run("token expiry", func(t *testing.T) {
		f := newFixture(t, Config{})
		s := f.open(true)
		s.c.SetAccess(nil, time.Now().Add(50*time.Millisecond), nil)
		testwait.For(t, "the connection failed at expiry", func() bool { return s.closeReason() != nil })
		if r := s.closeReason(); r.Kind != CloseTokenExpired {
			t.Fatalf("close reason %+v, want CloseTokenExpired", r)
		}
	})
	t.Run("token refreshed", func(t *testing.T) {
		f := newFixture(t, Config{})
		s := f.open(true)
		s.c.SetAccess(nil, time.Now().Add(time.Hour), nil)
		s.c.SetAccess(nil, time.Now().Add(-time.Second), nil) // already expired: fails at once
		testwait.For(t, "an expired refresh fails the connection", func() bool { return s.closeReason() != nil })

		s2 := f.open(true)
		s2.c.SetAccess(nil, time.Now().Add(100*time.Millisecond), nil)
		s2.c.SetAccess(nil, time.Now().Add(time.Hour), nil)
		time.Sleep(300 * time.Millisecond)
		if r := s2.closeReason(); r != nil {
			t.Fatalf("a refreshed connection was failed: %+v", r)
		}
	})
}
