package fakeaws

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// EC2 is the fake EC2 service.
type EC2 struct {
	awsx.EC2API // nil: calls nobody implemented panic
	*Core

	Region string
	// Zones are the region's availability zones; Offered lists, per instance
	// type, the zones that offer it (a type not listed is offered everywhere).
	Zones   []string
	Offered map[string][]string
	// InstanceProfile is how EC2 sees an IAM instance profile named by name
	// or ARN when it launches an instance: its ARN and id, or false when it
	// does not exist (yet). New wires it to the IAM fake; nil: none exists.
	InstanceProfile func(name, arn string) (profileARN, id string, found bool)

	mu        sync.Mutex
	seq       int
	vpcs      map[string]*fakeVPC
	subnets   map[string]*types.Subnet
	igws      map[string]*types.InternetGateway
	rtbs      map[string]*types.RouteTable
	endpoints map[string]*types.VpcEndpoint
	sgs       map[string]*types.SecurityGroup
	tokens    map[string]string // client token -> id
	users     []func(kind, id string) string
	cmp       *compute // instances, images, snapshots, group rules (ec2_compute.go)
}

type fakeVPC struct {
	vpc          types.Vpc
	dnsHostnames bool
	dnsSupport   bool
}

// NewEC2 returns an empty fake EC2 in us-east-1 whose zones mirror the real
// region, including us-east-1e not offering t2.micro.
func NewEC2(core *Core) *EC2 {
	return &EC2{
		Core:      core,
		Region:    "us-east-1",
		Zones:     []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"},
		Offered:   map[string][]string{"t2.micro": {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"}},
		vpcs:      map[string]*fakeVPC{},
		subnets:   map[string]*types.Subnet{},
		igws:      map[string]*types.InternetGateway{},
		rtbs:      map[string]*types.RouteTable{},
		endpoints: map[string]*types.VpcEndpoint{},
		sgs:       map[string]*types.SecurityGroup{},
		tokens:    map[string]string{},
		cmp:       newCompute(),
	}
}

// ---- generic helpers ----

func tagsFromSpecs(specs []types.TagSpecification, rt types.ResourceType) []types.Tag {
	var out []types.Tag
	for _, s := range specs {
		if s.ResourceType == rt {
			out = append(out, s.Tags...)
		}
	}
	return out
}

// matches applies EC2 filters: tag:K, tag-key and the attributes a kind
// exposes. An unknown filter name is an error, as in AWS.
func matches(filters []types.Filter, tags []types.Tag, attrs map[string][]string) (bool, error) {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		var have []string
		switch {
		case strings.HasPrefix(name, "tag:"):
			key := strings.TrimPrefix(name, "tag:")
			for _, t := range tags {
				if aws.ToString(t.Key) == key {
					have = append(have, aws.ToString(t.Value))
				}
			}
		case name == "tag-key":
			for _, t := range tags {
				have = append(have, aws.ToString(t.Key))
			}
		default:
			v, ok := attrs[name]
			if !ok {
				return false, APIError("InvalidParameterValue", "The filter '%s' is invalid", name)
			}
			have = v
		}
		if !anyMatch(f.Values, have) {
			return false, nil
		}
	}
	return true, nil
}

func anyMatch(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w == h || (strings.HasSuffix(w, "*") && strings.HasPrefix(h, strings.TrimSuffix(w, "*"))) {
				return true
			}
		}
	}
	return false
}

// describe selects items by ids (each must exist) and filters, sorted by id order of creation.
func describe[T any](items map[string]*T, ids []string, notFound string, filters []types.Filter,
	view func(*T) ([]types.Tag, map[string][]string)) ([]T, error) {
	for _, id := range ids {
		if _, ok := items[id]; !ok {
			return nil, APIError(notFound, "The ID '%s' does not exist", id)
		}
	}
	keys := make([]string, 0, len(items))
	for k := range items {
		if len(ids) == 0 || slices.Contains(ids, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []T
	for _, k := range keys {
		tags, attrs := view(items[k])
		ok, err := matches(filters, tags, attrs)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, *items[k])
		}
	}
	return out, nil
}

// id returns a new id whose suffix sorts in creation order.
func (f *EC2) id(prefix string) string {
	f.seq++
	return prefix + "-" + strconv.FormatInt(int64(0x1000000+f.seq), 16) + newID("x")[2:11]
}

// byToken returns the id created earlier with the same client token.
func (f *EC2) byToken(op, token string) (string, bool) {
	if token == "" {
		return "", false
	}
	id, ok := f.tokens[op+"/"+token]
	return id, ok
}

func (f *EC2) remember(op, token, id string) {
	if token != "" {
		f.tokens[op+"/"+token] = id
	}
}

// ---- availability zones ----

func (f *EC2) DescribeAvailabilityZones(ctx context.Context, in *ec2.DescribeAvailabilityZonesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error) {
	fault, err := f.begin(ctx, "DescribeAvailabilityZones")
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeAvailabilityZonesOutput{}
	for i, z := range f.Zones {
		attrs := map[string][]string{"zone-name": {z}, "state": {"available"}, "zone-type": {"availability-zone"},
			"region-name": {f.Region}, "opt-in-status": {"opt-in-not-required"}}
		ok, err := matches(in.Filters, nil, attrs)
		if err != nil {
			return nil, err
		}
		if ok && (len(in.ZoneNames) == 0 || slices.Contains(in.ZoneNames, z)) {
			out.AvailabilityZones = append(out.AvailabilityZones, types.AvailabilityZone{
				ZoneName: aws.String(z), ZoneId: aws.String("use1-az" + strconv.Itoa(i+1)), State: types.AvailabilityZoneStateAvailable,
				RegionName: aws.String(f.Region), ZoneType: aws.String("availability-zone"), OptInStatus: types.AvailabilityZoneOptInStatusOptInNotRequired,
			})
		}
	}
	return finish(out, nil, fault)
}

func (f *EC2) DescribeInstanceTypeOfferings(ctx context.Context, in *ec2.DescribeInstanceTypeOfferingsInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
	fault, err := f.begin(ctx, "DescribeInstanceTypeOfferings")
	if err != nil {
		return nil, err
	}
	if in.LocationType != types.LocationTypeAvailabilityZone {
		return nil, APIError("InvalidParameterValue", "fake supports LocationType availability-zone only")
	}
	var want []string
	for _, fl := range in.Filters {
		if aws.ToString(fl.Name) != "instance-type" {
			return nil, APIError("InvalidParameterValue", "The filter '%s' is invalid", aws.ToString(fl.Name))
		}
		want = append(want, fl.Values...)
	}
	out := &ec2.DescribeInstanceTypeOfferingsOutput{}
	for _, it := range want {
		zones, listed := f.Offered[it]
		if !listed {
			zones = f.Zones
		}
		for _, z := range zones {
			out.InstanceTypeOfferings = append(out.InstanceTypeOfferings, types.InstanceTypeOffering{
				InstanceType: types.InstanceType(it), Location: aws.String(z), LocationType: types.LocationTypeAvailabilityZone,
			})
		}
	}
	return finish(out, nil, fault)
}
