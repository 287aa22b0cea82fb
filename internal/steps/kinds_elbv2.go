package steps

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Elastic Load Balancing resources are named by ARN and keep their tags
// apart (DescribeTags, at most 20 ARNs a call), so every kind here finds by
// tags the same way: list all, then read the tags in batches.

var listenerKind = registerKind(&Kind{
	Type: "elbv2:listener",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		_, err := e.AWS.ELBV2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{id}})
		if found, err := notFoundIsAbsent(err); !found || err != nil {
			return nil, false, err
		}
		return elbv2Tags(ctx, e, id)
	},
	Exists: func(ctx context.Context, e *Env, id string) (bool, error) {
		_, err := e.AWS.ELBV2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{id}})
		return notFoundIsAbsent(err)
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		lbs, err := allLoadBalancerARNs(ctx, e)
		if err != nil {
			return nil, err
		}
		var arns []string
		for _, lb := range lbs {
			p := elbv2.NewDescribeListenersPaginator(e.AWS.ELBV2, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if awsx.IsNotFound(err) {
					break // the load balancer went away meanwhile
				}
				if err != nil {
					return nil, err
				}
				for _, l := range out.Listeners {
					arns = append(arns, aws.ToString(l.ListenerArn))
				}
			}
		}
		return filterByELBV2Tags(ctx, e, arns, tags)
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.ELBV2.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(id)})
		return err
	},
})

var loadBalancerKind = registerKind(&Kind{
	Type: "elbv2:load-balancer",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		_, err := e.AWS.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{id}})
		if found, err := notFoundIsAbsent(err); !found || err != nil {
			return nil, false, err
		}
		return elbv2Tags(ctx, e, id)
	},
	Exists: func(ctx context.Context, e *Env, id string) (bool, error) {
		_, err := e.AWS.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{id}})
		return notFoundIsAbsent(err)
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		arns, err := allLoadBalancerARNs(ctx, e)
		if err != nil {
			return nil, err
		}
		return filterByELBV2Tags(ctx, e, arns, tags)
	},
	// Delete also removes the listeners (AWS does) and waits until the load
	// balancer is gone, so what it used (subnets, security groups) can follow.
	Delete: func(ctx context.Context, e *Env, id string) error {
		if _, err := e.AWS.ELBV2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(id)}); err != nil {
			return err
		}
		spec := awsx.WaitSpec{What: "load balancer " + arnName(id) + " to be deleted", Interval: e.Cfg.Wait.PollInterval, Timeout: e.Cfg.Wait.Timeout,
			Log: e.Log, Hint: "check it with `aws elbv2 describe-load-balancers --load-balancer-arns " + id + "`"}
		return awsx.Poll(ctx, spec, func(ctx context.Context) (bool, string, error) {
			_, err := e.AWS.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{id}})
			found, err := notFoundIsAbsent(err)
			return !found && err == nil, "still listed", err
		})
	},
})

var targetGroupKind = registerKind(&Kind{
	Type: "elbv2:target-group",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		_, err := e.AWS.ELBV2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{id}})
		if found, err := notFoundIsAbsent(err); !found || err != nil {
			return nil, false, err
		}
		return elbv2Tags(ctx, e, id)
	},
	Exists: func(ctx context.Context, e *Env, id string) (bool, error) {
		_, err := e.AWS.ELBV2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{id}})
		return notFoundIsAbsent(err)
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		var arns []string
		p := elbv2.NewDescribeTargetGroupsPaginator(e.AWS.ELBV2, &elbv2.DescribeTargetGroupsInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, tg := range out.TargetGroups {
				arns = append(arns, aws.ToString(tg.TargetGroupArn))
			}
		}
		return filterByELBV2Tags(ctx, e, arns, tags)
	},
	// Delete fails with ResourceInUse while a listener forwards to the
	// group; destroy retries it once the listener is gone.
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.ELBV2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(id)})
		return err
	},
})

func allLoadBalancerARNs(ctx context.Context, e *Env) ([]string, error) {
	var arns []string
	p := elbv2.NewDescribeLoadBalancersPaginator(e.AWS.ELBV2, &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lb := range out.LoadBalancers {
			arns = append(arns, aws.ToString(lb.LoadBalancerArn))
		}
	}
	return arns, nil
}

// elbv2Tags reads one resource's tags; a resource gone meanwhile is absent.
func elbv2Tags(ctx context.Context, e *Env, arn string) (awsx.Tags, bool, error) {
	out, err := e.AWS.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.TagDescriptions) == 0 {
		return nil, false, err
	}
	return awsx.ELBV2TagMap(out.TagDescriptions[0].Tags), true, nil
}

// filterByELBV2Tags keeps, in order, the ARNs whose tags include all of want.
func filterByELBV2Tags(ctx context.Context, e *Env, arns []string, want awsx.Tags) ([]string, error) {
	var out []string
	for start := 0; start < len(arns); start += awsx.ELBV2DescribeTagsMax {
		batch := arns[start:min(start+awsx.ELBV2DescribeTagsMax, len(arns))]
		tagged, err := describeELBV2Tags(ctx, e, batch)
		if err != nil {
			return nil, err
		}
		for _, arn := range batch {
			if t, ok := tagged[arn]; ok && hasAllTags(t, want) {
				out = append(out, arn)
			}
		}
	}
	return out, nil
}

// describeELBV2Tags reads the tags of a batch; when one of them was deleted
// meanwhile (the whole call fails NotFound), it reads them one by one.
func describeELBV2Tags(ctx context.Context, e *Env, batch []string) (map[string]awsx.Tags, error) {
	out := map[string]awsx.Tags{}
	res, err := e.AWS.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: batch})
	switch {
	case err == nil:
		for _, d := range res.TagDescriptions {
			out[aws.ToString(d.ResourceArn)] = awsx.ELBV2TagMap(d.Tags)
		}
		return out, nil
	case !awsx.IsNotFound(err):
		return nil, err
	case len(batch) == 1:
		return out, nil
	}
	for _, arn := range batch {
		tags, found, err := elbv2Tags(ctx, e, arn)
		if err != nil {
			return nil, err
		}
		if found {
			out[arn] = tags
		}
	}
	return out, nil
}

func hasAllTags(have, want awsx.Tags) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// arnName is the name inside an ELB ARN: .../targetgroup/NAME/id,
// .../loadbalancer/app/NAME/id, .../listener/app/LB-NAME/lb-id/id.
func arnName(arn string) string {
	_, res, ok := strings.Cut(arn, ":loadbalancer/")
	if !ok {
		if _, res, ok = strings.Cut(arn, ":listener/"); !ok {
			_, res, _ = strings.Cut(arn, ":targetgroup/")
			return strings.Split(res, "/")[0]
		}
	}
	parts := strings.Split(res, "/") // app/NAME/...
	if len(parts) < 2 {
		return arn
	}
	return parts[1]
}
