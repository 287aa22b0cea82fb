// Command fakeaws serves an in-memory fake AWS account (internal/awsx/fakeaws)
// over HTTP in the services' real wire protocols (internal/awsx/fakeaws/wire),
// so myappctl can be tried, watched and demonstrated without an account:
//
//	go run ./cmd/fakeaws -pace 10 &
//	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test MYAPP_WAIT_POLL_INTERVAL=1s \
//	  bin/myappctl up --endpoint-url http://127.0.0.1:4566
//
// It is a development tool: the account lives in memory and is gone when the
// server stops (Ctrl-C). Use a fresh --state file for each server.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws/wire"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4566", "address to listen on")
	latency := flag.Duration("latency", 0, "time added to every call (e.g. 80ms, a laptop's round trip to a region)")
	pace := flag.Int("pace", 1, "how many describes a new instance, image, load balancer or database takes to become ready (higher: waits you can watch)")
	flag.Parse()
	if *pace < 1 || *latency < 0 {
		fmt.Fprintln(os.Stderr, "fakeaws: -pace must be at least 1 and -latency not negative")
		os.Exit(2)
	}

	cloud := fakeaws.New()
	cloud.EC2.SetComputeTiming(*pace, *pace)
	cloud.ELBV2.ProvisioningDescribes = *pace
	cloud.RDS.CreatingDescribes, cloud.RDS.BackingUpDescribes, cloud.RDS.DeletingDescribes = 2**pace, *pace, 2**pace
	cloud.HealthyWhileRunning()
	fake := wire.NewServer(cloud)
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(*latency)
		fake.ServeHTTP(w, r)
	})}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		<-stop
		_ = srv.Close()
	}()
	log.Printf("fake AWS account on http://%s (latency %s, pace %d): run myappctl with --endpoint-url http://%s and any keys", *addr, *latency, *pace, *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
