package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Outputs of stage 2 that later stages read.
const (
	OutFrontendLBSG    = "frontend_lb_sg_id"
	OutFrontendSG      = "frontend_sg_id"
	OutBackendLBSG     = "backend_lb_sg_id"
	OutBackendSG       = "backend_sg_id"
	OutDBSG            = "db_sg_id"
	OutFrontend1ID     = "frontend_1_id"
	OutArtifactsBucket = "artifacts_bucket"
)

func securityStage() *Stage {
	return &Stage{
		Number: 2, Name: "security", Title: "security groups, instance profiles, artifacts bucket and frontend-1",
		Needs: []string{"vpc"},
		Apply: applySecurity,
		Live:  liveSecurity,
		// The instance first (it uses a group and a profile), the groups
		// last; their cross-references are revoked before any is deleted.
		Kinds:         []*Kind{instanceKind, bucketKind, instanceProfileKind, iamRoleKind, securityGroupKind},
		BeforeDestroy: revokeCrossReferences,
		Named:         namedArtifactsBucket,
	}
}

// securityGroup is one of the five documented groups.
type securityGroup struct {
	role string // key in the stage and in rules: frontend-lb, frontend, ...
	base string // documented name
	desc string
	out  string
}

var securityGroups = []securityGroup{
	{"frontend-lb", "MyFront-End-Load-Balancer", "myappctl: frontend load balancer, HTTP 80 from anywhere", OutFrontendLBSG},
	{"frontend", "MyFront-End", "myappctl: frontend instances, HTTP 80 from the frontend load balancer", OutFrontendSG},
	{"backend-lb", "MyBack-End-API", "myappctl: backend load balancer, TCP 8090 from anywhere", OutBackendLBSG},
	{"backend", "MyBack-End", "myappctl: backend instances, TCP 8090 from the backend load balancer", OutBackendSG},
	{"db", "My-DB", "myappctl: database, MySQL 3306 from the backend instances", OutDBSG},
}

func applySecurity(ctx context.Context, r *Run) error {
	vpcID := r.Output("vpc", OutVPCID)
	groups := map[string]string{}
	for _, g := range securityGroups {
		id, err := ensureSecurityGroup(ctx, r, vpcID, g)
		if err != nil {
			return err
		}
		groups[g.role] = id
	}
	for _, g := range securityGroups {
		if err := ensureIngressRules(ctx, r, g, groups); err != nil {
			return err
		}
		if err := r.SetOutput(g.out, groups[g.role]); err != nil {
			return err
		}
	}
	bucket, err := ensureArtifactsBucket(ctx, r)
	if err != nil {
		return err
	}
	if err := r.SetOutput(OutArtifactsBucket, bucket); err != nil {
		return err
	}
	for _, t := range []*appTier{&frontendTier, &backendTier} {
		if err := ensureInstanceIdentity(ctx, r, t, bucket); err != nil {
			return err
		}
	}
	if bootstrapRetired(r) {
		r.Logf("frontend-1 %s", retiredNote(r, &frontendTier))
		return nil
	}
	rel, err := wantedRelease(r, &frontendTier)
	if err != nil {
		return err
	}
	id, err := ensureSourceInstance(ctx, r, &frontendTier, rel)
	if err != nil {
		return err
	}
	return r.SetOutput(OutFrontend1ID, id)
}

func ensureSecurityGroup(ctx context.Context, r *Run, vpcID string, g securityGroup) (string, error) {
	name := r.Name(g.base)
	return r.Ensure(ctx, Spec{Key: "security-group/" + g.role, Kind: securityGroupKind, Name: name, Detail: g.desc,
		Create: func(ctx context.Context, _ string) (string, error) {
			out, err := r.AWS.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(g.desc),
				VpcId: aws.String(vpcID), TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeSecurityGroup)}, awsx.EC2CreateOnce)
			if err != nil {
				return "", err
			}
			return aws.ToString(out.GroupId), nil
		}})
}

func liveSecurity(ctx context.Context, r *Run) ([]Fact, error) {
	if bootstrapRetired(r) {
		return []Fact{{Name: "frontend-1", Value: retiredNote(r, &frontendTier)}}, nil
	}
	id := r.Output(r.Stage.Name, OutFrontend1ID)
	return []Fact{{Name: "frontend-1", Value: fmt.Sprintf("%s %s", id, instanceStateOf(ctx, r.Env, id))}}, nil
}
