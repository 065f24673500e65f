package main

import (
	"os"
	"strconv"
	"strings"
)

// cpuSample is the machine's CPU time so far, in clock ticks, from the
// first line of /proc/stat: all of it, and the steal time (what the
// hypervisor ran for other guests while this one's vCPUs wanted to run).
// On a shared virtual machine, steal is what moves throughput between
// otherwise identical runs.
type cpuSample struct {
	total, steal uint64
	ok           bool
}

// readCPU samples /proc/stat (not ok where there is none).
func readCPU() cpuSample {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	return parseCPU(string(raw))
}

// parseCPU reads the "cpu" line of a /proc/stat: user, nice, system, idle,
// iowait, irq, softirq, steal (guest and guest_nice, counted in user and
// nice already, are left out).
func parseCPU(stat string) cpuSample {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuSample{}
	}
	var s cpuSample
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuSample{}
		}
		s.total += n
		if i == 7 {
			s.steal = n
		}
	}
	s.ok = true
	return s
}

// stealShare is the share of the machine's CPU time from a to b that was
// stolen, or -1 when either sample is missing or no time passed.
func stealShare(a, b cpuSample) float64 {
	if !a.ok || !b.ok || b.total <= a.total || b.steal < a.steal {
		return -1
	}
	return float64(b.steal-a.steal) / float64(b.total-a.total)
}

// stealText is a share of steal time as a percentage ("?" when unknown).
func stealText(share float64) string {
	if share < 0 {
		return "?"
	}
	return strconv.FormatFloat(share*100, 'f', 0, 64) + "%"
}
