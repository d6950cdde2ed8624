//go:build linux

package jepsen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// What the namespace network needs from the host, and why: packets between
// two nodes cross the run's bridge. With bridge netfilter on
// (net.bridge.bridge-nf-call-iptables = 1, which Docker sets and which
// stays after dockerd stops) bridged packets go through the iptables
// FORWARD chain, whose policy Docker sets to DROP. So the run inserts one
// rule of its own, scoped to its bridge, at the top of FORWARD and deletes
// it in Close; and when nodes still cannot reach each other it says which
// host setting is in the way.

// bridgeNfPath is the sysctl that sends bridged IPv4 packets through
// iptables.
const bridgeNfPath = "/proc/sys/net/bridge/bridge-nf-call-iptables"

// forwardRule is the iptables rule (without -I/-D FORWARD) that lets the
// traffic of bridge br through the FORWARD chain.
func forwardRule(br string) []string {
	return []string{"-i", br, "-o", br, "-j", "ACCEPT", "-m", "comment", "--comment", "pushflo-jepsen " + br}
}

// allowBridgeForwarding inserts forwardRule(br) at the top of the FORWARD
// chain when iptables is installed (without it nothing can have set a
// FORWARD policy through iptables, and there is nothing to undo). It
// reports whether it inserted the rule.
func allowBridgeForwarding(ctx context.Context, br string) (bool, error) {
	if _, err := exec.LookPath("iptables"); err != nil {
		return false, nil
	}
	args := append([]string{"-w", "5", "-I", "FORWARD", "1"}, forwardRule(br)...)
	if err := run(ctx, "", "iptables", args...); err != nil {
		return false, fmt.Errorf("let bridge %s's traffic through the iptables FORWARD chain: %w", br, err)
	}
	return true, nil
}

// removeBridgeForwarding deletes forwardRule(br) from FORWARD; a rule that
// is not there is not an error.
func removeBridgeForwarding(ctx context.Context, br string) error {
	args := append([]string{"-w", "5", "-D", "FORWARD"}, forwardRule(br)...)
	err := run(ctx, "", "iptables", args...)
	if err != nil && (strings.Contains(err.Error(), "does a matching rule exist") || strings.Contains(err.Error(), "Bad rule")) {
		return nil
	}
	return err
}

// staleForwardRule matches this harness's FORWARD rules in iptables -S
// output and captures the bridge.
var staleForwardRule = regexp.MustCompile(`(?m)^-A FORWARD -i (pfj[0-9a-f]{6}br) -o pfj[0-9a-f]{6}br .*pushflo-jepsen.*$`)

// cleanStaleForwardRules deletes FORWARD rules of bridges that no longer
// exist (a run that died before Close).
func cleanStaleForwardRules(ctx context.Context) {
	if _, err := exec.LookPath("iptables"); err != nil {
		return
	}
	out, err := exec.CommandContext(ctx, "iptables", "-w", "5", "-S", "FORWARD").Output()
	if err != nil {
		return
	}
	for _, m := range staleForwardRule.FindAllStringSubmatch(string(out), -1) {
		if _, err := net.InterfaceByName(m[1]); err == nil {
			continue // a live run's bridge
		}
		_ = removeBridgeForwarding(ctx, m[1])
	}
}

// hostForwardingDiagnosis names the host settings that drop packets
// crossing bridge br: bridge netfilter with a FORWARD chain that drops, and
// whether the run's own rule is in place and first. It returns "" when
// nothing in the way was found.
func hostForwardingDiagnosis(ctx context.Context, br string) string {
	nf, err := os.ReadFile(bridgeNfPath)
	if err != nil || strings.TrimSpace(string(nf)) != "1" {
		return "" // bridged packets skip iptables altogether
	}
	var blockers []string
	if _, err := exec.LookPath("iptables"); err != nil {
		blockers = append(blockers, "iptables is not installed, so the FORWARD chain cannot be inspected (look for a forward hook with policy drop in `nft list ruleset`)")
	} else if out, err := exec.CommandContext(ctx, "iptables", "-w", "5", "-S", "FORWARD").Output(); err == nil {
		s := string(out)
		mine := "-A FORWARD -i " + br + " -o " + br + " "
		first := ""
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "-A FORWARD ") {
				first = line
				break
			}
		}
		// With the run's rule first, nothing in FORWARD can drop its
		// packets, whatever the policy.
		if !strings.HasPrefix(first, mine) {
			if strings.Contains(s, "-P FORWARD DROP") {
				blockers = append(blockers, "the iptables FORWARD policy is DROP (Docker sets it, and it stays after dockerd stops)")
			}
			if !strings.Contains(s, mine) {
				blockers = append(blockers, "the run's rule '-I FORWARD -i "+br+" -o "+br+" -j ACCEPT' is missing")
			} else {
				blockers = append(blockers, "the run's FORWARD rule for "+br+" is not the first one: an earlier rule may drop its packets")
			}
		}
	}
	if len(blockers) == 0 {
		return ""
	}
	return "net.bridge.bridge-nf-call-iptables = 1, so packets between the namespaces cross the iptables FORWARD chain, and " +
		strings.Join(blockers, "; ") + ". Fix: iptables -P FORWARD ACCEPT, or sysctl -w net.bridge.bridge-nf-call-iptables=0"
}

// probeReachability checks, before any node starts, that each namespace
// reaches the next one's address and that the test process reaches every
// namespace, with a TCP connection to a listener opened for the purpose.
// Its error names who cannot reach whom and the host settings in the way.
func (nn *netnsNetwork) probeReachability(ctx context.Context) error {
	const port = 7999
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, n := range nn.nodes {
		addr := fmt.Sprintf("%s:%d", nn.ips[n.ID], port)
		var ln net.Listener
		if err := inNetns(n.Netns, func() (err error) {
			ln, err = net.Listen("tcp", addr)
			return err
		}); err != nil {
			return fmt.Errorf("netns network: probe listener in %s: %w", n.ID, err)
		}
		lns = append(lns, ln)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	dial := func(ns, addr string) error {
		d := net.Dialer{Timeout: 3 * time.Second}
		if ns == "" {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
			}
			return err
		}
		return inNetns(ns, func() error {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	var errs []error
	for i, n := range nn.nodes {
		addr := fmt.Sprintf("%s:%d", nn.ips[n.ID], port)
		if err := dial("", addr); err != nil {
			errs = append(errs, fmt.Errorf("the test process cannot reach %s at %s: %w", n.ID, addr, err))
		}
		if len(nn.nodes) > 1 {
			from := nn.nodes[(i+1)%len(nn.nodes)]
			if err := dial(from.Netns, addr); err != nil {
				errs = append(errs, fmt.Errorf("%s cannot reach %s at %s: %w", from.ID, n.ID, addr, err))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	err := errors.Join(errs...)
	if d := hostForwardingDiagnosis(ctx, nn.bridge); d != "" {
		return fmt.Errorf("netns network: %w; host: %s", err, d)
	}
	return fmt.Errorf("netns network: %w", err)
}
