package awsx

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"
)

// Elastic Load Balancing cannot filter by tag: its sets are every target
// group and load balancer of the region (their tags, DescribeTags 20 ARNs
// a call, are a set of their own, read only when asked for: a run that
// finds everything by the ARNs in its state needs none), and the listeners
// of each load balancer asked about. A lookup by ARN is answered when the
// ARN is in the listing.

// serviceELBV2 is the SDK's service id of Elastic Load Balancing v2.
const serviceELBV2 = "Elastic Load Balancing v2"

// elbv2Set is every target group and load balancer.
type elbv2Set struct {
	targetGroups  []elbv2types.TargetGroup
	loadBalancers []elbv2types.LoadBalancer
}

func loadELBV2(ctx context.Context, c *Clients, _ setSource) (any, error) {
	set := &elbv2Set{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		p := elbv2.NewDescribeTargetGroupsPaginator(c.ELBV2, &elbv2.DescribeTargetGroupsInput{})
		set.targetGroups, err = collect(gctx, p.HasMorePages, p.NextPage, func(o *elbv2.DescribeTargetGroupsOutput) []elbv2types.TargetGroup { return o.TargetGroups })
		return err
	})
	g.Go(func() (err error) {
		p := elbv2.NewDescribeLoadBalancersPaginator(c.ELBV2, &elbv2.DescribeLoadBalancersInput{})
		set.loadBalancers, err = collect(gctx, p.HasMorePages, p.NextPage, func(o *elbv2.DescribeLoadBalancersOutput) []elbv2types.LoadBalancer { return o.LoadBalancers })
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return set, nil
}

// loadELBV2Tags reads the tags of every target group and load balancer.
func loadELBV2Tags(ctx context.Context, c *Clients, src setSource) (any, error) {
	set, ok := elbv2Resources(src)
	if !ok {
		return nil, errSetUnavailable
	}
	var arns []string
	for _, tg := range set.targetGroups {
		arns = append(arns, aws.ToString(tg.TargetGroupArn))
	}
	for _, lb := range set.loadBalancers {
		arns = append(arns, aws.ToString(lb.LoadBalancerArn))
	}
	return readELBV2Tags(ctx, c.ELBV2, arns)
}

// listenerLoadBalancer is the load balancer of a listener, from its ARN
// (…:listener/app/<name>/<lb-id>/<listener-id> → …:loadbalancer/app/<name>/<lb-id>).
func listenerLoadBalancer(listenerARN string) (string, bool) {
	head, rest, ok := strings.Cut(listenerARN, ":listener/")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return "", false
	}
	return head + ":loadbalancer/" + rest[:i], true
}

// lbListeners is the set of one load balancer's listeners (false when it
// cannot be read, e.g. the load balancer is gone: AWS is then asked).
func lbListeners(src setSource, lb string) ([]elbv2types.Listener, bool) {
	v, ok := src.get(serviceELBV2, "listeners:"+lb, func(ctx context.Context, c *Clients, _ setSource) (any, error) {
		p := elbv2.NewDescribeListenersPaginator(c.ELBV2, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
		return collect(ctx, p.HasMorePages, p.NextPage, func(o *elbv2.DescribeListenersOutput) []elbv2types.Listener { return o.Listeners })
	})
	if !ok {
		return nil, false
	}
	return v.([]elbv2types.Listener), true
}

// readELBV2Tags reads the tags of every ARN, 20 a call, side by side; when
// a batch fails NotFound (one was deleted meanwhile) its ARNs are read one
// by one and the gone ones left out.
func readELBV2Tags(ctx context.Context, c ELBV2API, arns []string) (map[string][]elbv2types.Tag, error) {
	var batches [][]string
	for start := 0; start < len(arns); start += ELBV2DescribeTagsMax {
		batches = append(batches, arns[start:min(start+ELBV2DescribeTagsMax, len(arns))])
	}
	found := make([][]elbv2types.TagDescription, len(batches))
	g, gctx := errgroup.WithContext(ctx)
	for i, batch := range batches {
		g.Go(func() error {
			out, err := c.DescribeTags(gctx, &elbv2.DescribeTagsInput{ResourceArns: batch})
			if err == nil {
				found[i] = out.TagDescriptions
				return nil
			}
			if !IsNotFound(err) || len(batch) == 1 {
				if IsNotFound(err) {
					return nil
				}
				return err
			}
			for _, arn := range batch {
				out, err := c.DescribeTags(gctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
				switch {
				case IsNotFound(err):
				case err != nil:
					return err
				default:
					found[i] = append(found[i], out.TagDescriptions...)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	tags := make(map[string][]elbv2types.Tag, len(arns))
	for _, ds := range found {
		for _, d := range ds {
			tags[aws.ToString(d.ResourceArn)] = d.Tags
		}
	}
	return tags, nil
}

func elbv2Resources(src setSource) (*elbv2Set, bool) {
	v, ok := src.get(serviceELBV2, "resources", loadELBV2)
	if !ok {
		return nil, false
	}
	return v.(*elbv2Set), true
}

// listed answers a describe of target groups or load balancers from the
// listing: those of the ARNs asked for (every one listed), or all.
func listed[T any](src setSource, known bool, arns []string, all func(*elbv2Set) []T, arn func(T) string) ([]T, bool) {
	if !known {
		return nil, false
	}
	set, ok := elbv2Resources(src)
	if !ok {
		return nil, false
	}
	items := all(set)
	if len(arns) > 0 {
		if items, ok = pick(items, arn, arns); !ok {
			return nil, false
		}
	}
	return copyItems(items), true
}

func init() {
	// By ARNs, or all of them (what a sweep by tags lists first).
	answers(serviceELBV2, "DescribeTargetGroups", func(src setSource, input any) (any, bool) {
		in := input.(*elbv2.DescribeTargetGroupsInput)
		items, ok := listed(src, onlyFields(in, "TargetGroupArns", "PageSize"), in.TargetGroupArns,
			func(s *elbv2Set) []elbv2types.TargetGroup { return s.targetGroups },
			func(tg elbv2types.TargetGroup) string { return aws.ToString(tg.TargetGroupArn) })
		return &elbv2.DescribeTargetGroupsOutput{TargetGroups: items}, ok
	})
	answers(serviceELBV2, "DescribeLoadBalancers", func(src setSource, input any) (any, bool) {
		in := input.(*elbv2.DescribeLoadBalancersInput)
		items, ok := listed(src, onlyFields(in, "LoadBalancerArns", "PageSize"), in.LoadBalancerArns,
			func(s *elbv2Set) []elbv2types.LoadBalancer { return s.loadBalancers },
			func(lb elbv2types.LoadBalancer) string { return aws.ToString(lb.LoadBalancerArn) })
		return &elbv2.DescribeLoadBalancersOutput{LoadBalancers: items}, ok
	})
	// Those of one load balancer, or by ARNs (each of a load balancer whose
	// listeners are read once).
	answers(serviceELBV2, "DescribeListeners", func(src setSource, input any) (any, bool) {
		in := input.(*elbv2.DescribeListenersInput)
		if !onlyFields(in, "ListenerArns", "LoadBalancerArn", "PageSize") || (len(in.ListenerArns) > 0) == (in.LoadBalancerArn != nil) {
			return nil, false
		}
		if in.LoadBalancerArn != nil {
			items, ok := lbListeners(src, aws.ToString(in.LoadBalancerArn))
			return &elbv2.DescribeListenersOutput{Listeners: copyItems(items)}, ok
		}
		var all []elbv2types.Listener
		for _, arn := range in.ListenerArns {
			lb, ok := listenerLoadBalancer(arn)
			if !ok {
				return nil, false
			}
			items, ok := lbListeners(src, lb)
			if !ok {
				return nil, false
			}
			all = append(all, items...)
		}
		items, ok := pick(all, func(l elbv2types.Listener) string { return aws.ToString(l.ListenerArn) }, in.ListenerArns)
		return &elbv2.DescribeListenersOutput{Listeners: copyItems(items)}, ok
	})
	answers(serviceELBV2, "DescribeTags", func(src setSource, input any) (any, bool) {
		in := input.(*elbv2.DescribeTagsInput)
		if !onlyFields(in, "ResourceArns") || len(in.ResourceArns) == 0 {
			return nil, false
		}
		var resourceTags map[string][]elbv2types.Tag
		listenerTags := map[string]map[string][]elbv2types.Tag{} // by load balancer
		out := &elbv2.DescribeTagsOutput{}
		for _, arn := range in.ResourceArns {
			var tags []elbv2types.Tag
			known := false
			if lb, isListener := listenerLoadBalancer(arn); isListener {
				if listenerTags[lb] == nil {
					v, ok := src.get(serviceELBV2, "listener-tags:"+lb, func(ctx context.Context, c *Clients, src setSource) (any, error) {
						ls, ok := lbListeners(src, lb)
						if !ok {
							return nil, errSetUnavailable
						}
						var arns []string
						for _, l := range ls {
							arns = append(arns, aws.ToString(l.ListenerArn))
						}
						return readELBV2Tags(ctx, c.ELBV2, arns)
					})
					if !ok {
						return nil, false
					}
					listenerTags[lb] = v.(map[string][]elbv2types.Tag)
				}
				tags, known = listenerTags[lb][arn]
			} else {
				if resourceTags == nil {
					v, ok := src.get(serviceELBV2, "tags", loadELBV2Tags)
					if !ok {
						return nil, false
					}
					resourceTags = v.(map[string][]elbv2types.Tag)
				}
				tags, known = resourceTags[arn]
			}
			if !known {
				return nil, false
			}
			out.TagDescriptions = append(out.TagDescriptions, elbv2types.TagDescription{ResourceArn: aws.String(arn), Tags: copyItems(tags)})
		}
		return out, true
	})
}
