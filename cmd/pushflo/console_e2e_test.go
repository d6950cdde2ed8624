//go:build integration

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// These tests drive the web console (package web, served at /console) in
// headless Chromium against real processes, the way an operator uses it.

var consoleShots = flag.String("console-screenshots", "", "directory to write the console's screenshots into (make console-screenshots)")

// browser is one headless Chromium with a fresh profile. errs collects the
// page's console errors and uncaught exceptions.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		p, err := exec.LookPath("chromium")
		if err != nil {
			t.Skip("chromium is not installed (make test-go installs it with apt-get): skipping the console's browser tests")
		}
		path = p
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &browser{ctx: ctx}
	// Errors the page logs through the console API, and uncaught
	// exceptions; failed requests (the browser log) are the API answering
	// errors the tests provoke, and do not count.
	msgs := chromedp.Console(ctx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Source == "" && (m.Type == chromedp.ConsoleError || m.IsException()) {
				b.mu.Lock()
				b.errs = append(b.errs, string(m.Type)+": "+m.Text)
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) run(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		// What the page showed, for the failure message.
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("%s: %v\npage errors: %q\npage:\n%s", what, err, b.errors(), page)
	}
}

func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

func (b *browser) noErrors(t *testing.T) {
	t.Helper()
	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("the console logged errors: %q", errs)
	}
}

// waitJS polls a JavaScript expression until it is true, for at most 30
// seconds. An evaluation that fails (the page is navigating) is retried.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(30 * time.Second)
		var last error
		for time.Now().Before(deadline) {
			ok, err := chromedp.Evaluate[bool](`!!(`+expr+`)`)(ctx, tg)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			last = err
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return chromedp.Void{}, fmt.Errorf("still false after 30s: %s (last evaluation error: %v)", expr, last)
	}
}

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	if *consoleShots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(*consoleShots, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// evalInto evaluates a JavaScript expression into out.
func evalInto[T any](expr string, out *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Evaluate[T](expr)(ctx, tg)
		*out = v
		return chromedp.Void{}, err
	}
}

// textInto reads the visible text of the first element sel matches.
func textInto(sel string, out *string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Text(chromedp.CSS(sel))(ctx, tg)
		*out = v
		return chromedp.Void{}, err
	}
}

func (b *browser) signIn(t *testing.T, base, key string) {
	t.Helper()
	b.run(t, "sign in",
		chromedp.Navigate(base+"/"),
		waitJS(`location.pathname === "/console/"`),
		chromedp.WaitVisible(chromedp.CSS(`input[name=key]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=key]`), key),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		waitJS(`document.querySelectorAll("#nodes tbody tr").length > 0`),
	)
}

// TestConsole_SingleNode signs in, creates a channel, publishes from the
// form and sees the message in the live tail, resumes the tail after a
// reload and after leaving the page while a message was published, pages
// through history, and checks the page fits 375 px and logged no errors.
func TestConsole_SingleNode(t *testing.T) {
	// /metrics needs a key, as on a node exposed to the internet: the
	// console sends the key it signed in with.
	p := startProc(t, "n1", t.TempDir(), "--metrics-key", "metrics_e2escrape")
	base := "http://" + p.httpAddr
	b := newBrowser(t)

	// A publish key is refused at sign-in, where it was typed.
	b.run(t, "publish key refused",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=key]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=key]`), pubKey),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		waitJS(`[...document.querySelectorAll("form.signin .error")].some(e => !e.hidden && e.textContent.includes("pub_"))`),
	)
	// A secret key manages channels; membership changes are disabled with the reason.
	b.signIn(t, base, secKey)
	b.run(t, "secret key on the cluster page",
		chromedp.Navigate(base+"/console/#/cluster"),
		waitJS(`document.querySelector("#join-reason")?.textContent.includes("management")`),
		waitJS(`document.querySelector("#join-id").disabled`),
	)

	// Create a channel from the form; the console opens it.
	b.run(t, "create channel",
		chromedp.Navigate(base+"/console/#/channels"),
		chromedp.WaitVisible(chromedp.CSS(`#new-name`)),
		chromedp.SendKeys(chromedp.CSS(`#new-name`), "Orders EU"),
		chromedp.SendKeys(chromedp.CSS(`#new-retention`), "3600"),
		chromedp.Click(chromedp.CSS(`#new-private`)),
		chromedp.Click(chromedp.CSS(`#create-h ~ fieldset button[type=submit]`)),
		waitJS(`location.hash === "#/channels/orders-eu"`),
		waitJS(`document.querySelector("#tail-status")?.dataset.live === "1"`),
	)
	status, body, err := call("GET", base+"/api/v1/channels/orders-eu", secKey, "")
	if err != nil || status != 200 || !strings.Contains(string(body), `"isPrivate":true`) || !strings.Contains(string(body), `"retentionSeconds":3600`) {
		t.Fatalf("the created channel: %d %s %v", status, body, err)
	}

	// Publish from the form: the 201 is shown and the message arrives in the tail.
	var result, id string
	b.run(t, "publish from the form",
		chromedp.SetValue(chromedp.CSS(`#pub-content`), `{"order": 1, "note": "<b>not html</b>"}`),
		chromedp.SetValue(chromedp.CSS(`#pub-event`), "order-created"),
		chromedp.Click(chromedp.CSS(`#pub-h ~ button[type=submit]`)),
		waitJS(`document.querySelector("#pub-result").textContent.includes("arrived in the tail")`),
		textInto(`#pub-result`, &result),
		evalInto(`document.querySelector("#pub-result").dataset.id`, &id),
	)
	if !strings.HasPrefix(result, "201 Created: "+id) {
		t.Fatalf("publish result %q does not show the 201 of %s", result, id)
	}
	var html bool
	b.run(t, "content shown as text", evalInto(`document.querySelector("#tail b") !== null`, &html))
	if html {
		t.Fatal("message content was rendered as HTML")
	}

	// Invalid JSON is refused where it was typed, without a request.
	b.run(t, "invalid JSON",
		chromedp.SetValue(chromedp.CSS(`#pub-content`), `{"order": `),
		chromedp.Click(chromedp.CSS(`#pub-h ~ button[type=submit]`)),
		waitJS(`[...document.querySelectorAll("#pub-h ~ .error")].some(e => !e.hidden && e.textContent.includes("Not valid"))`),
	)

	// Reload: the tail shows what it had and resumes after the last ID.
	b.run(t, "reload",
		chromedp.Reload(),
		waitJS(`document.querySelector("#tail-status")?.dataset.live === "1"`),
		waitJS(fmt.Sprintf(`document.querySelector("#tail-status").textContent.includes("resumed after %s")`, id)),
		waitJS(fmt.Sprintf(`document.querySelector('#tail [data-id="%s"]') !== null`, id)),
	)

	// Leave the page, publish, come back: the tail catches up from the server.
	b.run(t, "leave", chromedp.Navigate("about:blank"))
	st, missed, err := publish(base, "orders-eu", `{"order":2}`)
	if err != nil || st != 201 {
		t.Fatalf("publish while away: %d %s %v", st, missed, err)
	}
	b.run(t, "come back",
		chromedp.Navigate(base+"/console/#/channels/orders-eu"),
		waitJS(fmt.Sprintf(`document.querySelector('#tail [data-id="%s"]') !== null`, missed)),
		waitJS(fmt.Sprintf(`document.querySelector('#tail [data-id="%s"]') !== null`, id)),
	)
	var tailIDs []string
	b.run(t, "tail order", evalInto(`[...document.querySelectorAll("#tail .msg")].map(e => e.dataset.id)`, &tailIDs))
	if len(tailIDs) != 2 || tailIDs[0] != missed || tailIDs[1] != id {
		t.Fatalf("tail after resume = %v; want [%s %s] (newest first, no duplicate)", tailIDs, missed, id)
	}

	// History: 23 more messages make 25, three pages of ten.
	for i := 3; i <= 25; i++ {
		if st, m, err := publish(base, "orders-eu", fmt.Sprintf(`{"order":%d}`, i)); err != nil || st != 201 {
			t.Fatalf("publish %d: %d %s %v", i, st, m, err)
		}
	}
	var page1, page2 []string
	b.run(t, "history paging",
		chromedp.Click(chromedp.CSS(`#hist-h ~ form button[type=submit]`)),
		waitJS(`document.querySelector("#hist-page").textContent.startsWith("page 1 of 3")`),
		evalInto(`[...document.querySelectorAll("#history .msg")].map(e => e.dataset.id)`, &page1),
		chromedp.Click(chromedp.CSS(`#hist-next`)),
		waitJS(`document.querySelector("#hist-page").textContent.startsWith("page 2 of 3")`),
		evalInto(`[...document.querySelectorAll("#history .msg")].map(e => e.dataset.id)`, &page2),
	)
	if len(page1) != 10 || len(page2) != 10 || page1[9] <= page2[0] {
		t.Fatalf("history pages: %v then %v; want 10 newest first, then the 10 before", page1, page2)
	}
	// since: the messages after the first one, oldest first.
	var sinceIDs []string
	b.run(t, "history since",
		chromedp.SetValue(chromedp.CSS(`#hist-since`), id),
		chromedp.Click(chromedp.CSS(`#hist-h ~ form button[type=submit]`)),
		waitJS(`document.querySelector("#hist-page").textContent.startsWith("after ")`),
		evalInto(`[...document.querySelectorAll("#history .msg")].map(e => e.dataset.id)`, &sinceIDs),
	)
	if len(sinceIDs) != 10 || sinceIDs[0] != missed {
		t.Fatalf("since %s listed %v; want 10 starting with %s", id, sinceIDs, missed)
	}
	b.screenshot(t, "console-channel.png")

	// An API error is shown where the action happened.
	b.run(t, "edit error",
		chromedp.SetValue(chromedp.CSS(`#edit-retention`), "-5"),
		chromedp.SetAttributeValue(chromedp.CSS(`#edit-retention`), "min", "-10"),
		chromedp.Click(chromedp.CSS(`#edit-h ~ fieldset .row button[type=submit]`)),
		waitJS(`[...document.querySelectorAll("#edit-h ~ fieldset .error")].some(e => !e.hidden && e.textContent.startsWith("VALIDATION_ERROR"))`),
	)

	// 375 px wide: nothing overflows the page sideways.
	var overflow bool
	b.run(t, "narrow",
		chromedp.EmulateViewport(375, 800),
		waitJS(`document.querySelector("#tail-status")?.dataset.live === "1"`),
		evalInto(`document.documentElement.scrollWidth > 375`, &overflow),
	)
	if overflow {
		t.Error("the channel view is wider than 375 px")
	}

	// Delete with confirmation.
	b.run(t, "delete",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Click(chromedp.CSS(`#delete`)),
		chromedp.WaitVisible(chromedp.CSS(`#delete-confirm`)),
		chromedp.Click(chromedp.CSS(`#delete-confirm`)),
		waitJS(`location.hash === "#/channels"`),
	)
	if st, _, _ := call("GET", base+"/api/v1/channels/orders-eu", secKey, ""); st != 404 {
		t.Fatalf("after delete the channel answers %d, want 404", st)
	}
	b.noErrors(t)
}

// TestConsole_Cluster opens the console on a follower of a 3-node cluster,
// sees the leader in the overview, kills the leader and sees the overview
// show the new one.
func TestConsole_Cluster(t *testing.T) {
	nodes := startCluster(t, 3)
	alive := func(p *proc) bool { return p.Running() }
	leader, followers := leaderOf(t, nodes, alive)
	b := newBrowser(t)
	b.signIn(t, "http://"+followers[0].httpAddr, mgmtKey)
	leaderRow := `document.querySelector('#nodes tr[data-role="leader"]')?.dataset.node`
	// Leadership may move between asking the cluster and the page loading
	// (it did at load average 20): wait until the page and the cluster
	// agree on the leader.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var shown string
		b.run(t, "overview shows a leader",
			waitJS(leaderRow+` !== undefined`),
			evalInto(leaderRow, &shown),
		)
		if leader, _ = leaderOf(t, nodes, alive); shown == leader.id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the overview shows %s as leader; the cluster says %s", shown, leader.id)
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.run(t, "overview shows the members",
		waitJS(`document.querySelectorAll("#nodes tbody tr").length === 3`),
		waitJS(`[...document.querySelectorAll("#nodes tbody tr")].every(r => r.textContent.includes("ready"))`),
	)
	b.screenshot(t, "console-overview.png")
	leader.kill()
	b.run(t, "overview shows the new leader",
		waitJS(fmt.Sprintf(`%s !== undefined && %s !== %q`, leaderRow, leaderRow, leader.id)),
		waitJS(fmt.Sprintf(`document.querySelector('#nodes tr[data-node=%q]')?.textContent.includes("unreachable")`, leader.id)),
	)
	// The cluster page offers membership changes to a mgmt key.
	b.run(t, "cluster page",
		chromedp.Navigate("http://"+followers[0].httpAddr+"/console/#/cluster"),
		waitJS(`document.querySelectorAll("#members tbody tr").length === 3`),
		waitJS(`!document.querySelector("#join-id").disabled`),
	)
	b.noErrors(t)
}
