package main

import (
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// BenchmarkUp runs a whole `up` of the real command tree over HTTP against
// the fake account with AWS's readiness times scaled to 1/30 (instance
// 1.5 s, AMI 10 s, load balancer 6 s, database 16 s, healthy target 1 s),
// every wait polling at the default interval scaled likewise, and the
// services picking up changed settings one poll later. It reports the wall
// time, the critical path — the waits no order can avoid: max(database,
// bootstrap instance + AMI, load balancer) + an instance from the AMI + a
// healthy target — their ratio, and how many instances were launched.
//
//	make bench-up
func BenchmarkUp(b *testing.B) {
	const scale = 30
	timing := fakeaws.AWSTiming.Scaled(scale)
	critical := max(timing.Database, timing.InstanceBoot+timing.ImageBake, timing.LoadBalancer) + timing.InstanceBoot + timing.TargetHealthy
	for range b.N {
		cloud := fakeaws.New()
		cloud.SetTiming(timing)
		cloud.Agent.Configure(func(a *fakeaws.Agent) { a.SettingsLag = 1 })
		wb := newWireBed(b, cloud)
		b.Setenv("MYAPP_WAIT_POLL_INTERVAL", (5 * time.Second / scale).String())
		b.Setenv("MYAPP_WAIT_TIMEOUT", "5m")
		state := filepath.Join(b.TempDir(), "myapp.json")
		start := time.Now()
		wb.mustRun("up", "--state", state)
		wall := time.Since(start)
		launched := cloud.EC2.InstancesLaunched()
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(critical.Seconds(), "critical-s")
		b.ReportMetric(wall.Seconds()/critical.Seconds(), "ratio")
		b.ReportMetric(float64(launched), "instances")
		fmt.Printf("up at 1/%d of AWS's times: wall %.1fs, critical path %.1fs, ratio %.2f (target ≤ 1.40), %d instances launched (target 8)\n",
			scale, wall.Seconds(), critical.Seconds(), wall.Seconds()/critical.Seconds(), launched)
	}
}

// BenchmarkRead builds the whole stack against the fake over HTTP, then
// adds 80 ms to every AWS call (a laptop's round trip to a region) and
// runs status, plan and a no-op up, reporting each one's wall time and
// number of AWS calls, and the calls by service.
//
//	make bench-read
func BenchmarkRead(b *testing.B) {
	cloud := fakeaws.New()
	wb := newWireBed(b, cloud)
	state := filepath.Join(b.TempDir(), "myapp.json")
	wb.mustRun("up", "--state", state)
	wb.latency = 80 * time.Millisecond
	b.ResetTimer()
	for range b.N {
		for _, cmd := range [][]string{{"status"}, {"plan"}, {"up"}} {
			before, byService := wb.total(), wb.counted()
			start := time.Now()
			wb.mustRun(append(cmd, "--state", state)...)
			wall, calls := time.Since(start), wb.total()-before
			for service, n := range wb.counted() {
				byService[service] = n - byService[service]
			}
			name := strings.Join(cmd, " ")
			if name == "up" {
				name = "up (nothing to do)"
			}
			b.ReportMetric(wall.Seconds(), cmd[0]+"-s")
			b.ReportMetric(float64(calls), cmd[0]+"-calls")
			fmt.Printf("%-20s %6.2fs %4d AWS calls (at 80 ms a call; target ≤ %s, ≤ 40 calls): %s\n", name, wall.Seconds(), calls,
				map[string]string{"status": "2 s", "plan": "3 s", "up": "3 s"}[cmd[0]], perService(byService))
		}
	}
}

// perService reads "ec2 13, s3 11, ...": the calls by service, most first.
func perService(calls map[string]int) string {
	services := slices.Collect(maps.Keys(calls))
	slices.SortFunc(services, func(a, b string) int { return cmp.Or(calls[b]-calls[a], strings.Compare(a, b)) })
	var parts []string
	for _, s := range services {
		if calls[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, calls[s]))
		}
	}
	return strings.Join(parts, ", ")
}
