package fakeaws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

func checkModify(in *rds.ModifyDBInstanceInput, d *fakeDB) error {
	storage := aws.ToInt32(d.db.AllocatedStorage)
	switch {
	case aws.ToString(d.db.DBInstanceStatus) != "available":
		return APIError("InvalidDBInstanceState", "Database instance is not in available state.")
	case in.DBInstanceClass != nil && !rdsClassPattern.MatchString(*in.DBInstanceClass):
		return APIError("InvalidParameterCombination", "RDS does not support DBInstanceClass=%s.", *in.DBInstanceClass)
	case in.MaxAllocatedStorage != nil && *in.MaxAllocatedStorage < storage:
		return APIError("InvalidParameterCombination", "Max storage size must be greater than storage size")
	case in.BackupRetentionPeriod != nil && (*in.BackupRetentionPeriod < 0 || *in.BackupRetentionPeriod > 35):
		return APIError("InvalidParameterValue", "The parameter BackupRetentionPeriod must be between 0 and 35.")
	}
	if in.MasterUserPassword != nil {
		return checkMasterPassword(*in.MasterUserPassword)
	}
	return nil
}

func (f *RDS) ModifyDBInstance(ctx context.Context, in *rds.ModifyDBInstanceInput, _ ...func(*rds.Options)) (*rds.ModifyDBInstanceOutput, error) {
	fault, err := f.begin(ctx, "ModifyDBInstance")
	if err != nil {
		return nil, err
	}
	sgVPCs, err := f.securityGroupVPCs(in.VpcSecurityGroupIds)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strings.ToLower(aws.ToString(in.DBInstanceIdentifier))
	d, ok := f.instances[id]
	if !ok {
		return nil, APIError("DBInstanceNotFound", "DBInstance %s not found.", id)
	}
	if err := checkModify(in, d); err != nil {
		return nil, err
	}
	if err := sameVPC(sgVPCs, aws.ToString(d.db.DBSubnetGroup.VpcId)); err != nil {
		return nil, err
	}
	f.applyModify(in, d)
	out := f.view(d)
	f.settle(id, d)
	return finish(&rds.ModifyDBInstanceOutput{DBInstance: &out}, nil, fault)
}

// applyModify changes what was asked. Without ApplyImmediately a class
// change waits for the maintenance window (it shows as pending).
func (f *RDS) applyModify(in *rds.ModifyDBInstanceInput, d *fakeDB) {
	db := &d.db
	if in.DBInstanceClass != nil {
		if aws.ToBool(in.ApplyImmediately) {
			db.DBInstanceClass = in.DBInstanceClass
		} else {
			db.PendingModifiedValues.DBInstanceClass = in.DBInstanceClass
		}
	}
	if in.MaxAllocatedStorage != nil {
		db.MaxAllocatedStorage = in.MaxAllocatedStorage
		if *in.MaxAllocatedStorage == aws.ToInt32(db.AllocatedStorage) {
			db.MaxAllocatedStorage = nil // equal to the storage: autoscaling off
		}
	}
	if in.BackupRetentionPeriod != nil {
		db.BackupRetentionPeriod = in.BackupRetentionPeriod
	}
	if len(in.VpcSecurityGroupIds) > 0 {
		db.VpcSecurityGroups = sgMemberships(in.VpcSecurityGroupIds)
	}
	if in.PubliclyAccessible != nil {
		db.PubliclyAccessible = in.PubliclyAccessible
	}
	if in.DeletionProtection != nil {
		db.DeletionProtection = in.DeletionProtection
	}
	db.DBInstanceStatus, d.left = aws.String("modifying"), f.ModifyingDescribes
	if in.MasterUserPassword != nil {
		d.password = *in.MasterUserPassword
		db.DBInstanceStatus = aws.String("resetting-master-credentials")
		db.PendingModifiedValues.MasterUserPassword = aws.String("****")
	}
}

func (f *RDS) DeleteDBInstance(ctx context.Context, in *rds.DeleteDBInstanceInput, _ ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error) {
	fault, err := f.begin(ctx, "DeleteDBInstance")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strings.ToLower(aws.ToString(in.DBInstanceIdentifier))
	d, ok := f.instances[id]
	if !ok {
		return nil, APIError("DBInstanceNotFound", "DBInstance %s not found.", id)
	}
	skip, snapshot := aws.ToBool(in.SkipFinalSnapshot), aws.ToString(in.FinalDBSnapshotIdentifier)
	status := aws.ToString(d.db.DBInstanceStatus)
	switch {
	case status == "deleting":
		return nil, APIError("InvalidDBInstanceState", "Instance %s is already being deleted.", id)
	case aws.ToBool(d.db.DeletionProtection):
		return nil, APIError("InvalidParameterCombination", "Cannot delete protected DB Instance, please disable deletion protection and try again.")
	case skip && snapshot != "":
		return nil, APIError("InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be specified when SkipFinalSnapshot is true.")
	case !skip && snapshot == "":
		return nil, APIError("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
	case !skip && status != "available":
		return nil, APIError("InvalidDBInstanceState", "Instance %s is currently %s - a final snapshot cannot be taken.", id, status)
	case !skip && checkIdentifier(snapshot) != nil:
		return nil, APIError("InvalidParameterValue", "The parameter FinalDBSnapshotIdentifier is not a valid identifier.")
	}
	if !skip {
		if _, dup := f.snapshots[snapshot]; dup {
			return nil, APIError("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", snapshot)
		}
		f.snapshots[snapshot] = id
	}
	d.db.DBInstanceStatus, d.left = aws.String("deleting"), f.DeletingDescribes
	out := f.view(d)
	f.settle(id, d)
	return finish(&rds.DeleteDBInstanceOutput{DBInstance: &out}, nil, fault)
}

// ---- test helpers ----

// ForgetDBInstance removes an instance at once, as if it had been deleted
// in the console and drained (tests of out-of-band deletion).
func (f *RDS) ForgetDBInstance(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.instances[id]; ok {
		delete(f.instances, id)
		f.setTags(aws.ToString(d.db.DBInstanceArn), nil)
	}
}

// PasswordIs reports whether an instance's master password is pw, so tests
// can check it without the fake ever returning it.
func (f *RDS) PasswordIs(id, pw string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.instances[id]
	return ok && d.password == pw
}

// FinalSnapshots returns the final snapshots taken, by id, with their instance.
func (f *RDS) FinalSnapshots() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for k, v := range f.snapshots {
		out[k] = v
	}
	return out
}

// DBInstance returns an instance as a describe would, without a logged call
// and without moving it on.
func (f *RDS) DBInstance(id string) (rdstypes.DBInstance, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.instances[id]
	if !ok {
		return rdstypes.DBInstance{}, false
	}
	return f.view(d), true
}
