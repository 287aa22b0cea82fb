package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// ingressRule is one inbound rule with a single source: what a group has
// (any protocol, IPv4 or IPv6 range, prefix list or group) or should have.
type ingressRule struct {
	perm ec2types.IpPermission // exactly one source
	desc string
}

func tcpFrom(port int32, cidr, group, desc string) ingressRule {
	p := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
	if group != "" {
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(group), Description: aws.String(desc)}}
	} else {
		p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(cidr), Description: aws.String(desc)}}
	}
	return ingressRule{perm: p, desc: desc}
}

// source is the rule's single source: a CIDR, a group id or a prefix list.
func (x ingressRule) source() string {
	p := x.perm
	switch {
	case len(p.IpRanges) > 0:
		return aws.ToString(p.IpRanges[0].CidrIp)
	case len(p.Ipv6Ranges) > 0:
		return aws.ToString(p.Ipv6Ranges[0].CidrIpv6)
	case len(p.UserIdGroupPairs) > 0:
		return aws.ToString(p.UserIdGroupPairs[0].GroupId)
	case len(p.PrefixListIds) > 0:
		return aws.ToString(p.PrefixListIds[0].PrefixListId)
	}
	return "?"
}

// String reads like the console: "tcp 80 from sg-0123".
func (x ingressRule) String() string {
	proto, from, to := aws.ToString(x.perm.IpProtocol), aws.ToInt32(x.perm.FromPort), aws.ToInt32(x.perm.ToPort)
	ports := fmt.Sprint(from)
	switch {
	case proto == "-1":
		proto, ports = "all traffic", ""
	case from != to:
		ports = fmt.Sprintf("%d-%d", from, to)
	}
	if ports != "" {
		ports = " " + ports
	}
	return proto + ports + " from " + x.source()
}

// same compares protocol, ports and source (descriptions are not access).
func (x ingressRule) same(o ingressRule) bool {
	norm := func(p string) string {
		if p == "6" {
			return "tcp"
		}
		return p
	}
	return norm(aws.ToString(x.perm.IpProtocol)) == norm(aws.ToString(o.perm.IpProtocol)) &&
		aws.ToInt32(x.perm.FromPort) == aws.ToInt32(o.perm.FromPort) && aws.ToInt32(x.perm.ToPort) == aws.ToInt32(o.perm.ToPort) &&
		x.source() == o.source()
}

// desiredRules are exactly the documented rules of a group, sources by
// group id; SSH only with ssh_cidr, only on the instance groups.
func desiredRules(r *Run, role string, groups map[string]string) []ingressRule {
	var rules []ingressRule
	switch role {
	case "frontend-lb":
		rules = append(rules, tcpFrom(80, "0.0.0.0/0", "", "HTTP from anywhere"))
	case "frontend":
		rules = append(rules, tcpFrom(80, "", groups["frontend-lb"], "HTTP from the frontend load balancer"))
	case "backend-lb":
		rules = append(rules, tcpFrom(8090, "0.0.0.0/0", "", "API from anywhere"))
	case "backend":
		rules = append(rules, tcpFrom(8090, "", groups["backend-lb"], "API from the backend load balancer"))
	case "db":
		rules = append(rules, tcpFrom(3306, "", groups["backend"], "MySQL from the backend instances"))
	}
	if r.Cfg.SSHCIDR != "" && (role == "frontend" || role == "backend") {
		rules = append(rules, tcpFrom(22, r.Cfg.SSHCIDR, "", "SSH from ssh_cidr"))
	}
	return rules
}

// splitRules turns a group's permissions into single-source rules.
func splitRules(perms []ec2types.IpPermission) []ingressRule {
	var out []ingressRule
	for _, p := range perms {
		base := ec2types.IpPermission{IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort}
		for _, x := range p.IpRanges {
			q := base
			q.IpRanges = []ec2types.IpRange{x}
			out = append(out, ingressRule{perm: q, desc: aws.ToString(x.Description)})
		}
		for _, x := range p.Ipv6Ranges {
			q := base
			q.Ipv6Ranges = []ec2types.Ipv6Range{x}
			out = append(out, ingressRule{perm: q, desc: aws.ToString(x.Description)})
		}
		for _, x := range p.UserIdGroupPairs {
			q := base
			q.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: x.GroupId, UserId: x.UserId}}
			out = append(out, ingressRule{perm: q, desc: aws.ToString(x.Description)})
		}
		for _, x := range p.PrefixListIds {
			q := base
			q.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: x.PrefixListId}}
			out = append(out, ingressRule{perm: q, desc: aws.ToString(x.Description)})
		}
	}
	return out
}

// ensureIngressRules makes a group's inbound rules exactly the documented
// ones: missing rules are authorized, rules added by hand are revoked.
// Outbound rules keep AWS's default (all traffic).
func ensureIngressRules(ctx context.Context, r *Run, g securityGroup, groups map[string]string) error {
	id, name := groups[g.role], r.Name(g.base)
	var have []ingressRule
	if !isPlanned(id) {
		sg, err := describeSecurityGroup(ctx, r.Env, id)
		if err == nil && sg == nil {
			err = fmt.Errorf("it disappeared")
		}
		if err != nil {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: securityGroupKind.Type + " " + name, Err: err}
		}
		have = splitRules(sg.IpPermissions)
	}
	want := desiredRules(r, g.role, groups)
	for _, w := range want {
		if containsRule(have, w) {
			continue
		}
		err := r.change("modify", securityGroupKind.Type, name, "authorize "+w.String()+" ("+w.desc+")", func() error {
			_, err := r.AWS.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []ec2types.IpPermission{w.perm}})
			if awsx.HasCode(err, "InvalidPermission.Duplicate") {
				return nil // added meanwhile
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, h := range have {
		if containsRule(want, h) {
			continue
		}
		if err := revokeRule(ctx, r, id, name, h, "not a documented rule"); err != nil {
			return err
		}
	}
	return nil
}

func containsRule(list []ingressRule, x ingressRule) bool {
	for _, y := range list {
		if y.same(x) {
			return true
		}
	}
	return false
}

func revokeRule(ctx context.Context, r *Run, id, name string, x ingressRule, why string) error {
	return r.change("modify", securityGroupKind.Type, name, "revoke "+x.String()+" ("+why+")", func() error {
		_, err := r.AWS.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []ec2types.IpPermission{x.perm}})
		return err
	})
}

// revokeCrossReferences removes every rule of the stack's groups that names
// another group, so destroy can delete the groups in any order.
func revokeCrossReferences(ctx context.Context, r *Run) error {
	ids, err := securityGroupKind.FindTagged(ctx, r.Env, awsx.Tags{awsx.TagStack: r.Cfg.Stack, awsx.TagStep: r.Stage.Name})
	if err != nil {
		return err
	}
	for _, res := range r.State.Stage(r.Stage.Name).Resources {
		if res.Type == securityGroupKind.Type && !contains(ids, res.ID) {
			ids = append(ids, res.ID)
		}
	}
	for _, id := range ids {
		sg, err := describeSecurityGroup(ctx, r.Env, id)
		if err != nil {
			return err
		}
		if sg == nil || !awsx.EC2TagMap(sg.Tags).OwnedBy(r.Cfg.Stack) {
			continue
		}
		for _, rule := range splitRules(sg.IpPermissions) {
			if len(rule.perm.UserIdGroupPairs) == 0 {
				continue
			}
			r.Logf("revoking %s on %s (%s) so the groups can be deleted", rule, aws.ToString(sg.GroupName), id)
			_, err := r.AWS.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []ec2types.IpPermission{rule.perm}})
			if err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}
