package main

import (
	"fmt"
	"path/filepath"
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
