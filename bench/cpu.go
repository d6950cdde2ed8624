package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat and /proc/stat times;
// 100 on every Linux platform Go supports.
const clockTicks = 100

// cpuSample is one reading of where CPU time went, taken at a point in time.
type cpuSample struct {
	at time.Time
	// generator is this process's user+system CPU time.
	generator time.Duration
	// servers is the summed CPU time of the server processes.
	servers time.Duration
	// machineBusy and machineTotal are /proc/stat's busy and total time
	// over all cores; machineIRQ is its irq+softirq part (loopback TCP is
	// processed there, and no process is charged for it).
	machineBusy, machineTotal, machineIRQ time.Duration
}

// takeCPU reads the generator's rusage, each server pid's /proc stat and
// the machine's /proc/stat.
func takeCPU(pids []int) cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		s.generator = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, pid := range pids {
		if d, err := processCPU(pid); err == nil {
			s.servers += d
		}
	}
	s.machineBusy, s.machineTotal, s.machineIRQ = machineCPU()
	return s
}

// CPUUse is how many cores each party used over a measured interval.
type CPUUse struct {
	// Cores is the machine's logical CPU count.
	Cores int `json:"cores"`
	// GeneratorCores is the bench process's CPU time divided by wall time.
	GeneratorCores float64 `json:"generatorCores"`
	// ServerCores is the same for the server processes together; zero when
	// their pids are unknown (--target without --server-pids).
	ServerCores float64 `json:"serverCores"`
	// IRQCores is interrupt and softirq time, machine-wide: mostly the
	// kernel's loopback TCP work for this benchmark's own traffic, which
	// /proc charges to no process.
	IRQCores float64 `json:"irqCores"`
	// OtherCores is what other processes on the machine used meanwhile
	// (busy time minus generator, servers and IRQ).
	OtherCores float64 `json:"otherCores"`
	// Limit is a sentence saying what bounded the scenario, if the CPU did.
	Limit string `json:"limit"`
	// GeneratorBound is true when the generator, not the server, was the
	// limit: the machine was saturated and the generator used more of it.
	GeneratorBound bool `json:"generatorBound"`
}

// cpuUse turns two samples into per-party core counts and a verdict.
func cpuUse(a, b cpuSample, serversKnown bool) CPUUse {
	wall := b.at.Sub(a.at).Seconds()
	u := CPUUse{Cores: runtime.NumCPU()}
	if wall <= 0 {
		return u
	}
	u.GeneratorCores = (b.generator - a.generator).Seconds() / wall
	u.ServerCores = (b.servers - a.servers).Seconds() / wall
	if tot := (b.machineTotal - a.machineTotal).Seconds(); tot > 0 {
		busy := (b.machineBusy - a.machineBusy).Seconds() / tot * float64(u.Cores)
		u.IRQCores = (b.machineIRQ - a.machineIRQ).Seconds() / tot * float64(u.Cores)
		u.OtherCores = max(0, busy-u.GeneratorCores-u.ServerCores-u.IRQCores)
	}
	total := u.GeneratorCores + u.ServerCores + u.IRQCores + u.OtherCores
	cores := float64(u.Cores)
	switch {
	case !serversKnown:
		u.Limit = fmt.Sprintf("server CPU unknown; generator used %.2f of %d cores", u.GeneratorCores, u.Cores)
	case total < 0.85*cores:
		u.Limit = fmt.Sprintf("not CPU-bound: %.2f of %d cores busy (generator %.2f, server %.2f, kernel irq %.2f, other processes %.2f)", total, u.Cores, u.GeneratorCores, u.ServerCores, u.IRQCores, u.OtherCores)
	case u.OtherCores > u.ServerCores && u.OtherCores > u.GeneratorCores:
		u.Limit = fmt.Sprintf("CPU-contended by other processes: %.2f of %d cores busy, of which other processes on the machine took %.2f (server %.2f, generator %.2f, kernel irq %.2f)", total, u.Cores, u.OtherCores, u.ServerCores, u.GeneratorCores, u.IRQCores)
		return u
	case u.GeneratorCores >= u.ServerCores:
		u.GeneratorBound = true
		u.Limit = fmt.Sprintf("generator-bound: CPU saturated (%.2f of %d cores) and the generator used %.2f cores, more than the server's %.2f (kernel irq %.2f, other processes %.2f)", total, u.Cores, u.GeneratorCores, u.ServerCores, u.IRQCores, u.OtherCores)
	default:
		u.Limit = fmt.Sprintf("CPU-bound, server-dominated: %.2f of %d cores busy (server %.2f, generator %.2f, kernel irq %.2f, other processes %.2f)", total, u.Cores, u.ServerCores, u.GeneratorCores, u.IRQCores, u.OtherCores)
	}
	if u.OtherCores >= 0.25 {
		u.Limit += fmt.Sprintf("; other processes on the machine took %.2f cores", u.OtherCores)
	}
	return u
}

// processCPU returns the user+system CPU time of pid from /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	// The command name is in parentheses and may hold spaces; fields
	// resume after the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat of pid %d: no ')' in %q", pid, b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("stat of pid %d: %d fields after the name; want at least 13", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat of pid %d: utime %q stime %q are not numbers", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// machineCPU returns the busy, total and irq+softirq time of all cores
// from /proc/stat.
func machineCPU() (busy, total, irq time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, 0
	}
	var v [8]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	idle := v[3] + v[4]
	var sum int64
	for _, x := range v {
		sum += x
	}
	tick := time.Second / clockTicks
	return time.Duration(sum-idle) * tick, time.Duration(sum) * tick, time.Duration(v[5]+v[6]) * tick
}

// rssBytes returns the VmRSS and VmHWM of pid from /proc/<pid>/status.
func rssBytes(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("status of pid %d: %s is %q; want \"<n> kB\"", pid, k, v)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("status of pid %d: %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("status of pid %d has no VmRSS line", pid)
	}
	return rss, hwm, nil
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit, for this
// process and the servers it starts, and returns the new soft limit.
func raiseFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}
