package stream

import (
	"time"
)

// SetAccess sets who the connection is: may decides which channels it may
// read (nil: all), and expires, when not zero, is when its credential ends
// (a connection token's exp): the connection is then failed with
// CloseTokenExpired, unless SetAccess is called again first with a later
// expiry (a token refresh). Subscriptions the new access no longer allows
// are revoked at once. revoked, when not nil, is the transport's hook for
// a subscription dropped for lack of access (key and channel); without it
// the connection is failed with CloseForbidden. The transport calls
// SetAccess before subscribing and again on refresh.
func (c *Conn) SetAccess(may Access, expires time.Time, revoked func(key, channel string)) {
	c.mu.Lock()
	c.access, c.revoked = may, revoked
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if !expires.IsZero() && c.closing == nil {
		c.expiry = time.AfterFunc(time.Until(expires), func() {
			c.Fail(CloseReason{Kind: CloseTokenExpired})
		})
	}
	c.mu.Unlock()
	c.checkAccess()
}

// allowed reports whether the connection may read a channel now.
func (c *Conn) allowed(channel string) bool {
	ch, _ := c.hub.log.Channel(channel)
	return c.mayRead(channel, ch.IsPrivate)
}

// mayRead asks the connection's access about a channel whose privacy is
// known.
func (c *Conn) mayRead(channel string, private bool) bool {
	c.mu.Lock()
	may := c.access
	c.mu.Unlock()
	return may == nil || may(channel, private)
}

// allowedAll reports whether the subscription may read all its channels,
// and the first one it may not.
func (sub *subscription) allowedAll() (string, bool) {
	for _, ch := range sub.channels {
		if !sub.c.allowed(ch) {
			return ch, false
		}
	}
	return "", true
}

// checkAccess revokes every subscription of the connection it may no
// longer read.
func (c *Conn) checkAccess() {
	c.mu.Lock()
	if c.access == nil {
		c.mu.Unlock()
		return
	}
	subs := make([]*subscription, 0, len(c.subs))
	for _, sub := range c.subs {
		subs = append(subs, sub)
	}
	c.mu.Unlock()
	for _, sub := range subs {
		if ch, ok := sub.allowedAll(); !ok {
			c.revoke(sub, ch)
		}
	}
}

// revoke drops a subscription the connection may no longer read and tells
// the transport (or fails the connection). Called without locks held.
func (c *Conn) revoke(sub *subscription, channel string) {
	c.mu.Lock()
	if c.subs[sub.key] != sub {
		c.mu.Unlock()
		return // gone already
	}
	delete(c.subs, sub.key)
	hook := c.revoked
	c.mu.Unlock()
	c.hub.remove(sub)
	c.hub.metrics.revoked.Inc()
	if hook != nil {
		hook(sub.key, channel)
		return
	}
	c.Fail(CloseReason{Kind: CloseForbidden, Channel: channel})
}

// checkAllAccess revokes, on every connection, the subscriptions it may
// no longer read: a channel made private reaches idle subscribers too.
func (h *Hub) checkAllAccess() {
	for _, c := range h.connList() {
		c.checkAccess()
	}
}
