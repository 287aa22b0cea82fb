package awsx

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// source answers reads as AWS would, counting them; each answer names the
// call that made it, so a kept answer is told from a fresh one.
type source struct {
	calls atomic.Int64
	err   error
	// gate, when set, holds every call until it is closed.
	gate chan struct{}
}

func (s *source) send(context.Context) (any, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	if s.err != nil {
		return nil, s.err
	}
	return &ec2.DescribeVpcsOutput{Vpcs: []ec2types.Vpc{{VpcId: aws.String("vpc-1"), Tags: []ec2types.Tag{{Key: aws.String("call"), Value: aws.String(string(rune('0' + n)))}}}}}, nil
}

func callOf(t *testing.T, out any) string {
	t.Helper()
	return aws.ToString(out.(*ec2.DescribeVpcsOutput).Vpcs[0].Tags[0].Value)
}

var vpcQuery = &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-1"}}

func TestReadCacheKeepsAnswersUntilAMutation(t *testing.T) {
	c, src := NewReadCache(nil), &source{}
	ctx := CachedReads(context.Background(), "myapp")
	read := func(service string, in any) string {
		t.Helper()
		out, err := c.Do(ctx, service, "DescribeVpcs", in, src.send)
		if err != nil {
			t.Fatal(err)
		}
		return callOf(t, out)
	}
	if a, b := read("EC2", vpcQuery), read("EC2", &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-1"}}); a != "1" || b != "1" {
		t.Errorf("the same read twice: answers of calls %s and %s, want the first kept", a, b)
	}
	if got := read("EC2", &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-2"}}); got != "2" {
		t.Errorf("another input: answer of call %s, want a new call", got)
	}
	c.Mutated("S3") // S3 changes nothing EC2 reports
	if got := read("EC2", vpcQuery); got != "1" {
		t.Errorf("after an S3 write: call %s, want the kept answer", got)
	}
	c.Mutated("EC2")
	if got := read("EC2", vpcQuery); got != "3" {
		t.Errorf("after a mutation: call %s, want a new call", got)
	}
	if got := read("S3", vpcQuery); got != "4" {
		t.Errorf("S3 read: call %s", got)
	}
	c.Mutated("S3")
	if got := read("S3", vpcQuery); got != "5" {
		t.Errorf("S3 read after an S3 write: call %s, want a new call", got)
	}
}

func TestReadCacheOnlyServesCachedReadsOutsideWaits(t *testing.T) {
	c, src := NewReadCache(nil), &source{}
	scoped := CachedReads(context.Background(), "myapp")
	for name, ctx := range map[string]context.Context{
		"without CachedReads": context.Background(),
		"in a wait":           Uncached(scoped),
	} {
		before := src.calls.Load()
		for range 2 {
			if _, err := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send); err != nil {
				t.Fatal(err)
			}
		}
		if n := src.calls.Load() - before; n != 2 {
			t.Errorf("%s: %d calls for 2 reads, want 2", name, n)
		}
	}
	// A wait's reads keep nothing either: the next read outside asks again.
	if out, _ := c.Do(scoped, "EC2", "DescribeVpcs", vpcQuery, src.send); callOf(t, out) != "5" {
		t.Errorf("first cached read: call %s, want a new one", callOf(t, out))
	}
	// Writes and bodies are never kept.
	for _, op := range []string{"CreateVpc", "GetObject"} {
		before := src.calls.Load()
		_, _ = c.Do(scoped, "S3", op, vpcQuery, src.send)
		_, _ = c.Do(scoped, "S3", op, vpcQuery, src.send)
		if n := src.calls.Load() - before; n != 2 {
			t.Errorf("%s: %d calls for 2, want 2", op, n)
		}
	}
}

// Poll's checks always ask AWS, and once Poll returns, the scope that
// waited no longer takes answers from before; another scope still does.
func TestReadCacheWaitsReadFreshAndRefreshTheirScope(t *testing.T) {
	c, src := NewReadCache(nil), &source{}
	run := CachedReads(context.Background(), "myapp")
	waiting, other := ReadScope(run), ReadScope(run)
	read := func(ctx context.Context) string {
		t.Helper()
		out, err := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send)
		if err != nil {
			t.Fatal(err)
		}
		return callOf(t, out)
	}
	if got := read(waiting); got != "1" {
		t.Fatalf("call %s", got)
	}
	checks := 0
	err := Poll(waiting, WaitSpec{What: "a VPC", Interval: time.Millisecond, Timeout: time.Second}, func(ctx context.Context) (bool, string, error) {
		checks++
		if got := read(ctx); got != string(rune('1'+checks)) {
			t.Errorf("check %d got the answer of call %s: a wait read a kept answer", checks, got)
		}
		return checks == 2, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(other); got != "1" {
		t.Errorf("a scope that did not wait: call %s, want the kept answer", got)
	}
	if got := read(waiting); got != "4" {
		t.Errorf("after its wait: call %s, want a new call", got)
	}
	if got := read(waiting); got != "4" {
		t.Errorf("then: call %s, want the answer read after the wait", got)
	}
	// WaitWithProgress too.
	_ = WaitWithProgress(waiting, WaitSpec{What: "a VPC", Interval: time.Millisecond, Timeout: time.Second}, func(ctx context.Context, _ time.Duration) error {
		if got := read(ctx); got != "5" {
			t.Errorf("waiter read call %s, want a new call", got)
		}
		return nil
	})
	if got := read(waiting); got != "6" {
		t.Errorf("after the waiter: call %s, want a new call", got)
	}
}

// PollUnlessDone does not wait when the answers the run has say done, and
// otherwise polls with fresh reads from its first check.
func TestPollUnlessDone(t *testing.T) {
	c, src := NewReadCache(nil), &source{}
	ctx := ReadScope(CachedReads(context.Background(), "myapp"))
	spec := WaitSpec{What: "a VPC", Interval: time.Millisecond, Timeout: time.Second}
	var seen []string
	check := func(want string) CheckFunc {
		return func(ctx context.Context) (bool, string, error) {
			out, err := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send)
			if err != nil {
				return false, "", err
			}
			seen = append(seen, callOf(t, out))
			return callOf(t, out) >= want, "", nil
		}
	}
	if err := PollUnlessDone(ctx, spec, check("1")); err != nil || len(seen) != 1 {
		t.Fatalf("done at once: err %v, checks %v", err, seen)
	}
	if err := PollUnlessDone(ctx, spec, check("3")); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1", "1", "2", "3"}; len(seen) != len(want) || seen[1] != "1" || seen[2] != "2" || seen[3] != "3" {
		t.Errorf("checks saw calls %v, want %v (one kept answer, then fresh ones)", seen, want)
	}
}

func TestReadCacheSharesOneCallBetweenConcurrentReads(t *testing.T) {
	c, src := NewReadCache(nil), &source{gate: make(chan struct{})}
	ctx := CachedReads(context.Background(), "myapp")
	const readers = 8
	outs := make([]any, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			out, err := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send)
			if err != nil {
				t.Error(err)
			}
			outs[i] = out
		})
	}
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others join the call
	close(src.gate)
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Errorf("%d calls for %d concurrent reads, want 1", n, readers)
	}
	// Every reader has an answer of its own.
	outs[0].(*ec2.DescribeVpcsOutput).Vpcs[0].Tags[0].Value = aws.String("changed by a caller")
	for i := 1; i < readers; i++ {
		if got := callOf(t, outs[i]); got != "1" {
			t.Errorf("reader %d sees %q", i, got)
		}
	}
	if out, _ := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send); callOf(t, out) != "1" {
		t.Errorf("a caller changed the kept answer: %q", callOf(t, out))
	}
}

// A read in flight when a mutation ends may predate it: it is not kept,
// and a read begun after the mutation does not join it.
func TestReadCacheDropsReadsAMutationOverlaps(t *testing.T) {
	c, src := NewReadCache(nil), &source{gate: make(chan struct{})}
	ctx := CachedReads(context.Background(), "myapp")
	first := make(chan any)
	go func() {
		out, _ := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send)
		first <- out
	}()
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Mutated("EC2")
	second := make(chan any)
	go func() {
		out, _ := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send)
		second <- out
	}()
	for src.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(src.gate)
	if a, b := callOf(t, <-first), callOf(t, <-second); a != "1" || b != "2" {
		t.Errorf("reads before and after a mutation got calls %s and %s, want 1 and 2", a, b)
	}
	if out, _ := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send); callOf(t, out) != "2" {
		t.Errorf("kept: call %s, want 2 (the one that began after the mutation)", callOf(t, out))
	}
}

func TestReadCacheKeepsNoErrors(t *testing.T) {
	c := NewReadCache(nil)
	src := &source{err: &smithy.GenericAPIError{Code: "InvalidVpcID.NotFound"}}
	ctx := CachedReads(context.Background(), "myapp")
	for range 2 {
		if _, err := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send); !IsNotFound(err) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := src.calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2: a NotFound is asked again (a resource just created may appear)", n)
	}
}

func TestReadCacheForgetsOldAnswers(t *testing.T) {
	c, src := NewReadCache(nil), &source{}
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := CachedReads(context.Background(), "myapp")
	_, _ = c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send)
	now = now.Add(readCacheMaxAge + time.Second)
	if out, _ := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send); callOf(t, out) != "2" {
		t.Errorf("an answer older than %s was given", readCacheMaxAge)
	}
}

// When the caller whose request serves everyone gives up, the others ask
// for themselves instead of failing with its cancellation.
func TestReadCacheSurvivesACanceledSharedRead(t *testing.T) {
	c := NewReadCache(nil)
	ctx := CachedReads(context.Background(), "myapp")
	impatient, cancel := context.WithCancel(ctx)
	started := make(chan struct{})
	go func() {
		_, _ = c.Do(impatient, "EC2", "DescribeVpcs", vpcQuery, func(ctx context.Context) (any, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		})
	}()
	<-started
	src := &source{}
	done := make(chan error)
	go func() {
		_, err := c.Do(ctx, "EC2", "DescribeVpcs", vpcQuery, src.send)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-done; err != nil || src.calls.Load() != 1 {
		t.Errorf("err = %v after %d calls of its own", err, src.calls.Load())
	}
}

func TestDeepCopyLeavesNothingShared(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	orig := &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{ReservationId: aws.String("r-1"), Instances: []ec2types.Instance{{
		InstanceId: aws.String("i-1"), LaunchTime: &created, State: &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning},
		Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}}}}
	cp := deepCopy(orig).(*ec2.DescribeInstancesOutput)
	in := &cp.Reservations[0].Instances[0]
	in.State.Name, *in.InstanceId, in.Tags[0].Value = ec2types.InstanceStateNameStopped, "i-2", aws.String("db")
	in.Tags = append(in.Tags, ec2types.Tag{})
	got := orig.Reservations[0].Instances[0]
	if got.State.Name != ec2types.InstanceStateNameRunning || *got.InstanceId != "i-1" || *got.Tags[0].Value != "web" || len(got.Tags) != 1 || !got.LaunchTime.Equal(created) {
		t.Errorf("changing the copy changed the original: %+v", got)
	}
	m := map[string]any{"k": []string{"a"}}
	mc := deepCopy(m).(map[string]any)
	mc["k"].([]string)[0] = "b"
	if m["k"].([]string)[0] != "a" {
		t.Error("a map's values are shared")
	}
	if deepCopy(nil) != nil || deepCopy((*ec2.DescribeVpcsOutput)(nil)).(*ec2.DescribeVpcsOutput) != nil {
		t.Error("nil is not copied as nil")
	}
}

func TestReadKeyFollowsTheInput(t *testing.T) {
	a, _ := readKey("EC2", "DescribeVpcs", &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{EC2Filter("tag:Name", "x")}})
	b, _ := readKey("EC2", "DescribeVpcs", &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{EC2Filter("tag:Name", "x")}})
	c, _ := readKey("EC2", "DescribeVpcs", &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{EC2Filter("tag:Name", "y")}})
	d, _ := readKey("EC2", "DescribeSubnets", &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{EC2Filter("tag:Name", "x")}})
	if a != b || a == c || a == d {
		t.Errorf("keys: %q %q %q %q", a, b, c, d)
	}
	if _, ok := readKey("EC2", "X", make(chan int)); ok {
		t.Error("an input JSON cannot hold was keyed")
	}
}
