package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/config"
)

// ensureDBInstance finds, adopts or creates the MySQL instance, waits until
// it is available, makes sure the state file holds its password, and
// repairs drifted settings. It returns nil for an instance still planned.
func ensureDBInstance(ctx context.Context, r *Run, group, sg string) (string, *rdstypes.DBInstance, error) {
	ident := dbIdentifier(r)
	id, err := r.Ensure(ctx, Spec{Key: "db-instance", Kind: dbInstanceKind, Name: ident, Detail: dbDetail(r.Cfg.Database),
		Create: func(ctx context.Context, _ string) (string, error) { return createDBInstance(ctx, r, ident, group, sg) }})
	if err != nil || isPlanned(id) {
		return id, nil, err
	}
	db, err := dbInstanceReady(ctx, r, id)
	if err != nil {
		return "", nil, err
	}
	reset, err := ensureDBPassword(ctx, r, id)
	if err != nil {
		return "", nil, err
	}
	modified, err := repairDBDrift(ctx, r, db, sg)
	if err != nil {
		return "", nil, err
	}
	if reset || modified {
		db, err = dbInstanceReady(ctx, r, id)
	}
	return id, db, err
}

func dbDetail(d config.Database) string {
	version := d.EngineVersion
	if version == "" {
		version = "default version"
	}
	storage := fmt.Sprintf("%d GB", d.AllocatedStorage)
	if d.MaxAllocatedStorage > 0 {
		storage += fmt.Sprintf(" autoscaling up to %d GB", d.MaxAllocatedStorage)
	}
	return fmt.Sprintf("MySQL %s, %s, %s, database %s, user %s, encrypted, not public, backups %d day(s)",
		version, d.InstanceClass, storage, d.Name, d.Username, d.BackupRetentionDays)
}

// createDBInstance creates the instance, tagged in the call. The password is
// saved in the state file before the call, so an instance whose create
// response was lost is adopted later with the password it really has.
func createDBInstance(ctx context.Context, r *Run, ident, group, sg string) (string, error) {
	if err := waitOutDeletion(ctx, r, ident); err != nil {
		return "", err
	}
	password, err := dbPassword(r)
	if err != nil {
		return "", err
	}
	d := r.Cfg.Database
	in := &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(ident), Engine: aws.String("mysql"), DBInstanceClass: aws.String(d.InstanceClass),
		AllocatedStorage: aws.Int32(int32(d.AllocatedStorage)), DBName: aws.String(d.Name),
		MasterUsername: aws.String(d.Username), MasterUserPassword: aws.String(password),
		VpcSecurityGroupIds: []string{sg}, DBSubnetGroupName: aws.String(group),
		PubliclyAccessible: aws.Bool(false), StorageEncrypted: aws.Bool(true), MultiAZ: aws.Bool(false),
		BackupRetentionPeriod: aws.Int32(int32(d.BackupRetentionDays)), CopyTagsToSnapshot: aws.Bool(true),
		DeletionProtection: aws.Bool(false), Tags: r.Tags(ident).RDS(),
	}
	if d.EngineVersion != "" {
		in.EngineVersion = aws.String(d.EngineVersion)
	}
	if d.MaxAllocatedStorage > 0 {
		in.MaxAllocatedStorage = aws.Int32(int32(d.MaxAllocatedStorage))
	}
	_, err = r.AWS.RDS.CreateDBInstance(ctx, in)
	if awsx.HasCode(err, "DBInstanceAlreadyExists") {
		return "", fmt.Errorf("a DB instance %s exists but lacks the tags of stack %s, so it is not ours to use: set database.identifier to another name, or use another --stack: %w", ident, r.Cfg.Stack, err)
	}
	return ident, err
}

// waitOutDeletion waits for an instance of the same name that is still
// being deleted (by an earlier destroy) to be gone, since the name is taken
// until then.
func waitOutDeletion(ctx context.Context, r *Run, ident string) error {
	if !dbInstanceDeleting(ctx, r.Env, ident) {
		return nil
	}
	r.Logf("DB instance %s is still being deleted; waiting for it to be gone before creating it again", ident)
	return waitDBInstanceDeleted(ctx, r.Env, ident)
}

// dbInstanceReady waits until the instance is available (minutes on AWS),
// printing each status it passes through, and returns it. A plan only looks.
func dbInstanceReady(ctx context.Context, r *Run, id string) (*rdstypes.DBInstance, error) {
	db, err := describeDBInstance(ctx, r.Env, id)
	if r.DryRun {
		if err != nil || db == nil {
			return nil, &StageError{Stage: r.Stage.Name, Action: "describe", Resource: dbInstanceKind.Type + " " + id, Err: err}
		}
		return db, nil
	}
	if err == nil && db != nil && aws.ToString(db.DBInstanceStatus) == "available" {
		return db, nil // what this run has read already says there is nothing to wait for
	}
	spec := r.wait("DB instance "+id+" to become available", r.Cfg.Wait.DatabaseTimeout,
		"check it with `aws rds describe-db-instances --db-instance-identifier "+id+"` or in the RDS console, then run `myappctl up` again")
	var out *rds.DescribeDBInstancesOutput
	err = awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		last := ""
		w := rds.NewDBInstanceAvailableWaiter(r.AWS.RDS, func(o *rds.DBInstanceAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
			retryable := o.Retryable
			o.Retryable = func(ctx context.Context, in *rds.DescribeDBInstancesInput, got *rds.DescribeDBInstancesOutput, err error) (bool, error) {
				if err == nil && len(got.DBInstances) > 0 {
					if s := aws.ToString(got.DBInstances[0].DBInstanceStatus); s != last {
						last = s
						r.Logf("DB instance %s: %s", id, s)
					}
				}
				return retryable(ctx, in, got, err)
			}
		})
		var err error
		out, err = w.WaitForOutput(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, maxWait)
		return err
	})
	if err != nil {
		return nil, &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: dbInstanceKind.Type + " " + id, Err: err}
	}
	return &out.DBInstances[0], nil
}

// repairDBDrift puts back the settings the configuration owns, in one
// ModifyDBInstance applied immediately. It reports whether it modified.
func repairDBDrift(ctx context.Context, r *Run, db *rdstypes.DBInstance, sg string) (bool, error) {
	id := aws.ToString(db.DBInstanceIdentifier)
	if !aws.ToBool(db.StorageEncrypted) && !r.DryRun {
		r.Logf("warning: DB instance %s is not encrypted at rest; RDS cannot encrypt an existing instance: `myappctl destroy` and `up` rebuild it encrypted (data is lost unless you restore a snapshot)", id)
	}
	in, what := dbDrift(db, r.Cfg.Database, sg)
	if len(what) == 0 {
		return false, nil
	}
	in.DBInstanceIdentifier, in.ApplyImmediately = aws.String(id), aws.Bool(true)
	return true, r.change("modify", dbInstanceKind.Type, id, strings.Join(what, "; "), func() error {
		_, err := r.AWS.RDS.ModifyDBInstance(ctx, in)
		return err
	})
}

// dbDrift compares the instance (pending changes counted as made) with the
// configuration and returns the modification that repairs it.
func dbDrift(db *rdstypes.DBInstance, d config.Database, sg string) (*rds.ModifyDBInstanceInput, []string) {
	in := &rds.ModifyDBInstanceInput{}
	var what []string
	pending := db.PendingModifiedValues
	if pending == nil {
		pending = &rdstypes.PendingModifiedValues{}
	}
	class := aws.ToString(db.DBInstanceClass)
	if pending.DBInstanceClass != nil {
		class = *pending.DBInstanceClass
	}
	if class != d.InstanceClass {
		in.DBInstanceClass = aws.String(d.InstanceClass)
		what = append(what, fmt.Sprintf("class %s → %s", class, d.InstanceClass))
	}
	storage, ceiling := aws.ToInt32(db.AllocatedStorage), aws.ToInt32(db.MaxAllocatedStorage)
	switch want := int32(d.MaxAllocatedStorage); {
	case want == 0 && ceiling != 0:
		in.MaxAllocatedStorage = aws.Int32(storage) // equal to the storage turns autoscaling off
		what = append(what, fmt.Sprintf("storage autoscaling off (was up to %d GB)", ceiling))
	case want != 0 && ceiling != want:
		in.MaxAllocatedStorage = aws.Int32(want)
		what = append(what, fmt.Sprintf("storage autoscaling limit %d → %d GB", ceiling, want))
	}
	backups := aws.ToInt32(db.BackupRetentionPeriod)
	if pending.BackupRetentionPeriod != nil {
		backups = *pending.BackupRetentionPeriod
	}
	if want := int32(d.BackupRetentionDays); backups != want {
		in.BackupRetentionPeriod = aws.Int32(want)
		what = append(what, fmt.Sprintf("backup retention %d → %d day(s)", backups, want))
	}
	var groups []string
	for _, g := range db.VpcSecurityGroups {
		if s := aws.ToString(g.Status); s != "removing" && s != "inactive" {
			groups = append(groups, aws.ToString(g.VpcSecurityGroupId))
		}
	}
	if !slices.Equal(groups, []string{sg}) {
		in.VpcSecurityGroupIds = []string{sg}
		what = append(what, fmt.Sprintf("security groups %v → [%s]", groups, sg))
	}
	if aws.ToBool(db.PubliclyAccessible) {
		in.PubliclyAccessible = aws.Bool(false)
		what = append(what, "publicly accessible → no")
	}
	return in, what
}
