package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// RDS resources are identified by name (DBInstanceIdentifier,
// DBSubnetGroupName), which RDS keeps in lower case.

const dbStatusDeleting = "deleting"

// dbInstanceKind is a DB instance. One that is being deleted counts as gone:
// it cannot be used or adopted any more, and its deletion needs no help.
var dbInstanceKind = registerKind(&Kind{
	Type: "rds:db-instance",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		db, err := describeDBInstance(ctx, e, id)
		if db == nil || err != nil || aws.ToString(db.DBInstanceStatus) == dbStatusDeleting {
			return nil, false, err
		}
		return awsx.RDSTagMap(db.TagList), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		var ids []string
		p := rds.NewDescribeDBInstancesPaginator(e.AWS.RDS, &rds.DescribeDBInstancesInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, db := range out.DBInstances {
				if aws.ToString(db.DBInstanceStatus) != dbStatusDeleting && hasTags(awsx.RDSTagMap(db.TagList), tags) {
					ids = append(ids, aws.ToString(db.DBInstanceIdentifier))
				}
			}
		}
		return ids, nil
	},
	Delete: deleteDBInstance,
})

// hasTags reports whether have carries every tag of want.
func hasTags(have, want awsx.Tags) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func describeDBInstance(ctx context.Context, e *Env, id string) (*rdstypes.DBInstance, error) {
	out, err := e.AWS.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.DBInstances) == 0 {
		return nil, err
	}
	return &out.DBInstances[0], nil
}

// deleteDBInstance deletes without a final snapshot unless
// database.final_snapshot is set, then waits until the instance is gone
// (minutes on AWS) so its subnet group and security group can go next.
func deleteDBInstance(ctx context.Context, e *Env, id string) error {
	in := &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}
	snapshot := ""
	if e.Cfg.Database.FinalSnapshot {
		snapshot = fmt.Sprintf("%s-final-%s", id, time.Now().UTC().Format("20060102-150405"))
		in.SkipFinalSnapshot, in.FinalDBSnapshotIdentifier = aws.Bool(false), aws.String(snapshot)
	}
	if _, err := e.AWS.RDS.DeleteDBInstance(ctx, in); err != nil {
		// Already deleting (an interrupted destroy) only needs the wait; in
		// any other state (creating, modifying) destroy retries the delete.
		if !awsx.HasCode(err, "InvalidDBInstanceState") || !dbInstanceDeleting(ctx, e, id) {
			return err
		}
	} else if snapshot != "" {
		rdsLog(e)("taking final snapshot %s: it is kept after destroy (and billed); delete it with `aws rds delete-db-snapshot --db-snapshot-identifier %s`", snapshot, snapshot)
	}
	rdsLog(e)("waiting for DB instance %s to be deleted (several minutes on AWS)", id)
	return waitDBInstanceDeleted(ctx, e, id)
}

func dbInstanceDeleting(ctx context.Context, e *Env, id string) bool {
	db, err := describeDBInstance(ctx, e, id)
	return err == nil && db != nil && aws.ToString(db.DBInstanceStatus) == dbStatusDeleting
}

// rdsLog prints progress lines of RDS work done outside a Run (destroy).
func rdsLog(e *Env) awsx.Logf {
	return func(format string, args ...any) {
		if e.Log != nil {
			e.Log("[rds] "+format, args...)
		}
	}
}

func waitDBInstanceDeleted(ctx context.Context, e *Env, id string) error {
	spec := awsx.WaitSpec{What: "DB instance " + id + " to be deleted", Interval: e.Cfg.Wait.PollInterval,
		Timeout: e.Cfg.Wait.DatabaseTimeout, Log: rdsLog(e),
		Hint: "check it with `aws rds describe-db-instances --db-instance-identifier " + id + "`, then run `myappctl destroy` again"}
	return awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		w := rds.NewDBInstanceDeletedWaiter(e.AWS.RDS, func(o *rds.DBInstanceDeletedWaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
		})
		return w.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, maxWait)
	})
}

// dbSubnetGroupKind is a DB subnet group. RDS returns its tags only through
// ListTagsForResource.
var dbSubnetGroupKind = registerKind(&Kind{
	Type: "rds:db-subnet-group",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		g, err := describeDBSubnetGroup(ctx, e, id)
		if g == nil || err != nil {
			return nil, false, err
		}
		tags, err := rdsTags(ctx, e, aws.ToString(g.DBSubnetGroupArn))
		return tags, err == nil, err
	},
	Exists: func(ctx context.Context, e *Env, id string) (bool, error) {
		g, err := describeDBSubnetGroup(ctx, e, id)
		return g != nil, err
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		var ids []string
		p := rds.NewDescribeDBSubnetGroupsPaginator(e.AWS.RDS, &rds.DescribeDBSubnetGroupsInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, g := range out.DBSubnetGroups {
				have, err := rdsTags(ctx, e, aws.ToString(g.DBSubnetGroupArn))
				if err != nil && !awsx.IsNotFound(err) {
					return nil, err
				}
				if err == nil && hasTags(have, tags) {
					ids = append(ids, aws.ToString(g.DBSubnetGroupName))
				}
			}
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.RDS.DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String(id)})
		return err
	},
})

func describeDBSubnetGroup(ctx context.Context, e *Env, name string) (*rdstypes.DBSubnetGroup, error) {
	out, err := e.AWS.RDS.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.DBSubnetGroups) == 0 {
		return nil, err
	}
	return &out.DBSubnetGroups[0], nil
}

func rdsTags(ctx context.Context, e *Env, arn string) (awsx.Tags, error) {
	out, err := e.AWS.RDS.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	return awsx.RDSTagMap(out.TagList), nil
}
