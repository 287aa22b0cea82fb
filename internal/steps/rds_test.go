package steps

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/state"
)

// rdsBed is a testbed whose registry is vpc, a stand-in for stage 2 and
// rds, with every progress line kept (to look for the password in them).
type rdsBed struct {
	*testbed
	mu   sync.Mutex
	logs []string
}

func newRDSBed(t *testing.T) *rdsBed {
	t.Helper()
	b := &rdsBed{testbed: newTestbed(t)}
	b.cfg.Wait.DatabaseTimeout = 3 * time.Second
	b.reload()
	return b
}

// reload opens the state file afresh, as a new process would.
func (b *rdsBed) reload() {
	b.t.Helper()
	b.testbed.reload()
	b.runner.Stages = Registry{vpcStage(), testSecurityStage(), rdsStage()}
	b.runner.Env.Log = func(format string, args ...any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.logs = append(b.logs, fmt.Sprintf(format, args...))
	}
}

func (b *rdsBed) logText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.logs, "\n")
}

func (b *rdsBed) build() {
	b.t.Helper()
	b.step("vpc")
	b.step("security")
	b.step("rds")
}

func (b *rdsBed) password() string { return b.state().Secret("rds", SecretDBPassword) }

func (b *rdsBed) db() rdstypes.DBInstance {
	b.t.Helper()
	db, ok := b.cloud.RDS.DBInstance("database-1")
	if !ok {
		b.t.Fatal("no DB instance database-1")
	}
	return db
}

// testSGAPI is what the stand-in for stage 2 needs of the EC2 fake. Until the
// fake has security groups the stand-in records a made-up id, which the RDS
// fake accepts.
type testSGAPI interface {
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DeleteSecurityGroup(context.Context, *ec2.DeleteSecurityGroupInput, ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
}

var testDBSGKind = registerKind(&Kind{
	Type: "test:security-group",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		out, err := e.AWS.EC2.(testSGAPI).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.SecurityGroups) == 0 {
			return nil, false, err
		}
		return awsx.EC2TagMap(out.SecurityGroups[0].Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		api, ok := e.AWS.EC2.(testSGAPI)
		if !ok {
			return nil, nil
		}
		out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, g := range out.SecurityGroups {
			ids = append(ids, aws.ToString(g.GroupId))
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.EC2.(testSGAPI).DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		return err
	},
})

// testSecurityStage stands in for stage 2: it makes the db security group.
func testSecurityStage() *Stage {
	return &Stage{Number: 2, Name: "security", Title: "test db security group", Needs: []string{"vpc"}, Kinds: []*Kind{testDBSGKind},
		Apply: func(ctx context.Context, r *Run) error {
			api, ok := r.AWS.EC2.(testSGAPI)
			if !ok {
				return r.SetOutput(rdsSecurityGroupOutput, "sg-test")
			}
			vpc, name := r.Output("vpc", OutVPCID), r.Name("MyDB-sg")
			id, err := r.Ensure(ctx, Spec{Key: "security-group/db", Kind: testDBSGKind, Name: name,
				Create: func(ctx context.Context, _ string) (string, error) {
					out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), VpcId: aws.String(vpc),
						Description: aws.String("db"), TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeSecurityGroup)})
					if err != nil {
						return "", err
					}
					return aws.ToString(out.GroupId), nil
				}})
			if err != nil {
				return err
			}
			return r.SetOutput(rdsSecurityGroupOutput, id)
		}}
}

func TestRDSBuildsThePrivateEncryptedDatabase(t *testing.T) {
	b := newRDSBed(t)
	b.step("vpc")
	b.step("security")
	// The instance id is in the state file before the wait starts.
	recordedBeforeWait := false
	log := b.runner.Env.Log
	b.runner.Env.Log = func(format string, args ...any) {
		if line := fmt.Sprintf(format, args...); strings.Contains(line, "DB instance database-1: creating") {
			_, recordedBeforeWait = b.state().Resource("rds", "db-instance")
		}
		log(format, args...)
	}
	b.step("rds")
	if !recordedBeforeWait {
		t.Error("the instance was not in the state file while waiting for it")
	}
	st := b.state()
	sg := st.Output("security", rdsSecurityGroupOutput)
	private := strings.Split(st.Output("vpc", OutPrivateSubnets), ",")

	groups, err := b.cloud.RDS.DescribeDBSubnetGroups(bg, &rds.DescribeDBSubnetGroupsInput{})
	if err != nil || len(groups.DBSubnetGroups) != 1 {
		t.Fatalf("subnet groups %+v, err %v", groups, err)
	}
	g := groups.DBSubnetGroups[0]
	var inGroup []string
	for _, s := range g.Subnets {
		inGroup = append(inGroup, aws.ToString(s.SubnetIdentifier))
	}
	if aws.ToString(g.DBSubnetGroupName) != "database-1-subnet-group" || strings.Join(sortedStrings(inGroup), ",") != strings.Join(sortedStrings(private), ",") {
		t.Errorf("subnet group %s has %v, want the private subnets %v", aws.ToString(g.DBSubnetGroupName), inGroup, private)
	}
	tags, _ := b.cloud.RDS.ListTagsForResource(bg, &rds.ListTagsForResourceInput{ResourceName: g.DBSubnetGroupArn})
	if m := awsx.RDSTagMap(tags.TagList); m[awsx.TagStack] != "myapp" || m[awsx.TagStep] != "rds" || m[awsx.TagName] != "database-1-subnet-group" {
		t.Errorf("subnet group tags %v", m)
	}

	db := b.db()
	checks := map[string][2]any{
		"status": {aws.ToString(db.DBInstanceStatus), "available"}, "engine": {aws.ToString(db.Engine), "mysql"},
		"class": {aws.ToString(db.DBInstanceClass), "db.t3.micro"}, "storage": {aws.ToInt32(db.AllocatedStorage), int32(20)},
		"storage ceiling": {aws.ToInt32(db.MaxAllocatedStorage), int32(100)}, "database": {aws.ToString(db.DBName), "todo"},
		"user": {aws.ToString(db.MasterUsername), "root"}, "public": {aws.ToBool(db.PubliclyAccessible), false},
		"encrypted": {aws.ToBool(db.StorageEncrypted), true}, "backups": {aws.ToInt32(db.BackupRetentionPeriod), int32(1)},
		"multi-AZ": {aws.ToBool(db.MultiAZ), false}, "copy tags": {aws.ToBool(db.CopyTagsToSnapshot), true},
		"deletion protection": {aws.ToBool(db.DeletionProtection), false},
		"subnet group":        {aws.ToString(db.DBSubnetGroup.DBSubnetGroupName), "database-1-subnet-group"},
		"security groups":     {fmt.Sprint(len(db.VpcSecurityGroups), aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId)), fmt.Sprint(1, sg)},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", what, c[0], c[1])
		}
	}
	if m := awsx.RDSTagMap(db.TagList); m[awsx.TagStack] != "myapp" || m[awsx.TagStep] != "rds" || m[awsx.TagName] != "database-1" {
		t.Errorf("instance tags %v", m)
	}

	pw := b.password()
	if !regexp.MustCompile(`^[A-Za-z0-9._-]{32}$`).MatchString(pw) || !b.cloud.RDS.PasswordIs("database-1", pw) {
		t.Errorf("password: %d characters, matches the instance: %v", len(pw), b.cloud.RDS.PasswordIs("database-1", pw))
	}
	want := map[string]string{OutDBPort: "3306", OutDBName: "todo", OutDBUsername: "root", OutDBInstanceID: "database-1"}
	for k, v := range want {
		if got := st.Output("rds", k); got != v {
			t.Errorf("output %s = %q, want %q", k, got, v)
		}
	}
	if ep := st.Output("rds", OutDBEndpoint); !regexp.MustCompile(`^database-1\.[a-z0-9]+\.us-east-1\.rds\.amazonaws\.com$`).MatchString(ep) {
		t.Errorf("endpoint = %q", ep)
	}
	logs := b.logText()
	for _, s := range []string{"DB instance database-1: creating", "DB instance database-1: backing-up", "DB instance database-1: available"} {
		if !strings.Contains(logs, s) {
			t.Errorf("no progress line %q in\n%s", s, logs)
		}
	}
	assertNoPassword(t, pw, logs, fmt.Sprint(st.Stage("rds").Outputs))
	if fi, err := os.Stat(b.cfg.StatePath()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v, mode %v", err, fi.Mode().Perm())
	}
	// The database keeps the subnets in use: the VPC cannot go before it.
	if _, err := b.cloud.EC2.DeleteSubnet(bg, &ec2.DeleteSubnetInput{SubnetId: &private[0]}); awsx.ErrorCode(err) != "DependencyViolation" {
		t.Errorf("deleting a database subnet: %v, want DependencyViolation", err)
	}
}

func assertNoPassword(t *testing.T, pw string, texts ...string) {
	t.Helper()
	if pw == "" {
		t.Fatal("no password to look for")
	}
	for _, s := range texts {
		if strings.Contains(s, pw) {
			t.Errorf("the password appears in %q", s)
		}
	}
}

func TestRDSSecondRunMakesNoChanges(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	pw := b.password()
	b.reload()
	b.cloud.ResetCalls()
	if res := b.step("rds"); len(res.Changes) != 0 {
		t.Errorf("second run changed %v", res.Changes)
	}
	if m := b.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second run made mutating calls %v", m)
	}
	if b.password() != pw {
		t.Error("the password changed")
	}
}

func TestRDSPlanChangesNothing(t *testing.T) {
	b := newRDSBed(t)
	// Before anything exists: a plan of every stage, with placeholders.
	plan, err := b.runner.Plan(bg)
	if err != nil || len(plan) != 3 || len(plan[2].Changes) != 2 {
		t.Fatalf("plan from scratch: %v, %+v", err, plan)
	}
	b.step("vpc")
	b.step("security")
	b.cloud.ResetCalls()
	plan, err = b.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range plan[2].Changes {
		got = append(got, c.Action+" "+c.Kind+" "+c.Name)
	}
	if strings.Join(got, ",") != "create rds:db-subnet-group database-1-subnet-group,create rds:db-instance database-1" {
		t.Errorf("plan = %v", got)
	}
	if m := b.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if b.password() != "" || b.state().Stage("rds").Status != state.StatusPending {
		t.Error("plan wrote to the state file")
	}
}

func TestRDSDeletedOutOfBandIsRecreatedWithTheSamePassword(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	pw := b.password()
	b.cloud.RDS.ForgetDBInstance("database-1")
	b.reload()
	res := b.step("rds")
	if len(res.Changes) != 1 || res.Changes[0].Action != "create" || res.Changes[0].Kind != "rds:db-instance" {
		t.Errorf("changes = %v", res.Changes)
	}
	// The password is kept: what was configured with it keeps working.
	if b.password() != pw || !b.cloud.RDS.PasswordIs("database-1", pw) {
		t.Error("the recreated instance does not have the password of the state file")
	}
	if aws.ToString(b.db().DBInstanceStatus) != "available" {
		t.Errorf("status %s", aws.ToString(b.db().DBInstanceStatus))
	}
}

func TestRDSWaitsOutAnInstanceStillBeingDeleted(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	b.cloud.RDS.DeletingDescribes = 4
	if _, err := b.cloud.RDS.DeleteDBInstance(bg, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	res := b.step("rds")
	if len(res.Changes) != 1 || res.Changes[0].Action != "create" {
		t.Errorf("changes = %v", res.Changes)
	}
	if !strings.Contains(b.logText(), "still being deleted") || aws.ToString(b.db().DBInstanceStatus) != "available" {
		t.Errorf("status %s; logs:\n%s", aws.ToString(b.db().DBInstanceStatus), b.logText())
	}
}

func TestRDSDriftIsPlannedThenRepaired(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	st := b.state()
	public := strings.Split(st.Output("vpc", OutPublicSubnets), ",")
	// Somebody clicks around in the console.
	_, err := b.cloud.RDS.ModifyDBInstance(bg, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), ApplyImmediately: aws.Bool(true),
		DBInstanceClass: aws.String("db.t3.small"), MaxAllocatedStorage: aws.Int32(20), BackupRetentionPeriod: aws.Int32(7),
		PubliclyAccessible: aws.Bool(true), VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.cloud.RDS.ModifyDBSubnetGroup(bg, &rds.ModifyDBSubnetGroupInput{DBSubnetGroupName: aws.String("database-1-subnet-group"), SubnetIds: public[2:]}); err != nil {
		t.Fatal(err)
	}
	b.cloud.ResetCalls()
	plan, err := b.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	changes := plan[2].Changes
	if len(changes) != 2 || changes[0].Kind != "rds:db-subnet-group" || changes[1].Kind != "rds:db-instance" {
		t.Fatalf("plan = %v", changes)
	}
	for _, want := range []string{"class db.t3.small → db.t3.micro", "storage autoscaling limit 0 → 100 GB", "backup retention 7 → 1", "security groups", "publicly accessible → no"} {
		if !strings.Contains(changes[1].Detail, want) {
			t.Errorf("plan detail %q lacks %q", changes[1].Detail, want)
		}
	}
	if m := b.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if res := b.step("rds"); len(res.Changes) != 2 {
		t.Errorf("up made %v", res.Changes)
	}
	db := b.db()
	if aws.ToString(db.DBInstanceClass) != "db.t3.micro" || aws.ToBool(db.PubliclyAccessible) || aws.ToInt32(db.BackupRetentionPeriod) != 1 ||
		aws.ToInt32(db.MaxAllocatedStorage) != 100 || aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId) != st.Output("security", rdsSecurityGroupOutput) ||
		aws.ToString(db.DBInstanceStatus) != "available" {
		t.Errorf("not repaired: %+v", db)
	}
	b.cloud.ResetCalls()
	if res := b.step("rds"); len(res.Changes) != 0 {
		t.Errorf("not converged after repair: %v", res.Changes)
	}
}

func TestRDSLostPasswordIsResetVisibly(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	old := b.password()
	if err := b.state().SetSecret("rds", SecretDBPassword, ""); err != nil {
		t.Fatal(err)
	}
	b.reload()
	plan, err := b.runner.Plan(bg)
	if err != nil || len(plan[2].Changes) != 1 || !strings.Contains(plan[2].Changes[0].Detail, "reset the master password") {
		t.Fatalf("plan: %v %+v", err, plan[2].Changes)
	}
	res := b.step("rds")
	if len(res.Changes) != 1 || res.Changes[0].Action != "modify" {
		t.Errorf("changes = %v", res.Changes)
	}
	pw := b.password()
	if pw == "" || pw == old || !b.cloud.RDS.PasswordIs("database-1", pw) {
		t.Error("the new password is not both in the state file and on the instance")
	}
	assertNoPassword(t, pw, b.logText(), fmt.Sprint(res.Changes))
	if res := b.step("rds"); len(res.Changes) != 0 {
		t.Errorf("not converged: %v", res.Changes)
	}
}

func TestRDSInterruptedPasswordResetIsRepeated(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	_ = b.state().SetSecret("rds", SecretDBPassword, "")
	b.cloud.Inject("ModifyDBInstance", fakeaws.Fault{Err: fakeaws.ServerError()})
	if _, err := b.runner.Step(bg, "rds"); err == nil {
		t.Fatal("the reset did not fail")
	}
	pw := b.password()
	b.reload()
	res := b.step("rds")
	if len(res.Changes) != 1 || !strings.Contains(res.Changes[0].Detail, "finish resetting") {
		t.Errorf("changes = %v", res.Changes)
	}
	if b.password() != pw || !b.cloud.RDS.PasswordIs("database-1", pw) {
		t.Error("the saved password was not sent again")
	}
}

func TestRDSLostCreateResponseMakesNoDuplicate(t *testing.T) {
	b := newRDSBed(t)
	b.step("vpc")
	b.step("security")
	// The create worked, its answer was lost: found by its tags, adopted in the same run.
	b.cloud.Inject("CreateDBInstance", fakeaws.LostResponse())
	b.step("rds")
	if n := b.cloud.CountCalls("CreateDBInstance"); n != 1 {
		t.Errorf("CreateDBInstance called %d times", n)
	}
	if !b.cloud.RDS.PasswordIs("database-1", b.password()) {
		t.Error("adopted instance and state file disagree on the password")
	}
}

func TestRDSLeavesAnInstanceOfTheSameNameWithoutItsTagsAlone(t *testing.T) {
	b := newRDSBed(t)
	b.step("vpc")
	b.step("security")
	// A database-1 made by hand, following the original tutorial.
	private := strings.Split(b.state().Output("vpc", OutPrivateSubnets), ",")
	f := b.cloud.RDS
	if _, err := f.CreateDBSubnetGroup(bg, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("by-hand"), DBSubnetGroupDescription: aws.String("x"), SubnetIds: private}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CreateDBInstance(bg, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), Engine: aws.String("mysql"),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("root"),
		MasterUserPassword: aws.String("password"), DBSubnetGroupName: aws.String("by-hand")}); err != nil {
		t.Fatal(err)
	}
	_, err := b.runner.Step(bg, "rds")
	if err == nil || !strings.Contains(err.Error(), "lacks the tags of stack myapp") || awsx.ErrorCode(err) != "DBInstanceAlreadyExists" {
		t.Errorf("err = %v", err)
	}
	if _, ok := b.state().Resource("rds", "db-instance"); ok {
		t.Error("recorded an instance that is not ours")
	}
	b.cfg.Wait.DestroyTimeout = 100 * time.Millisecond
	_, _ = b.runner.Destroy(bg)
	if n := b.cloud.CountCalls("DeleteDBInstance"); n != 0 {
		t.Errorf("destroy tried to delete the instance made by hand (%d calls)", n)
	}
}

func TestRDSDestroyWaitsUntilGoneAndLeavesNothing(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	b.cloud.RDS.DeletingDescribes = 3
	rep := b.destroy()
	if n := b.cloud.RDS.Count(); n["db-instance"] != 0 || n["db-subnet-group"] != 0 {
		t.Errorf("left after destroy: %v", n)
	}
	b.assertEmpty()
	if len(b.cloud.RDS.FinalSnapshots()) != 0 {
		t.Error("a final snapshot was taken")
	}
	// The instance was gone before its subnet group was deleted.
	if n := b.cloud.CountCalls("DeleteDBSubnetGroup"); n != 1 {
		t.Errorf("DeleteDBSubnetGroup called %d times, want once", n)
	}
	if !strings.Contains(strings.Join(rep.Deleted, ","), "rds:db-instance database-1") {
		t.Errorf("deleted %v", rep.Deleted)
	}
	if st := b.state().Stage("rds"); st.Status != state.StatusDestroyed || len(st.Secrets) != 0 {
		t.Errorf("state after destroy: %+v", st)
	}
}

func TestRDSDestroyWithLostStateFileFindsTheDatabaseByTags(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	if err := os.Remove(b.cfg.StatePath()); err != nil {
		t.Fatal(err)
	}
	b.reload()
	b.destroy()
	if n := b.cloud.RDS.Count(); n["db-instance"] != 0 || n["db-subnet-group"] != 0 {
		t.Errorf("left after destroy: %v", n)
	}
	b.assertEmpty()
}

func TestRDSDestroyTakesAFinalSnapshotWhenAsked(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	b.cfg.Database.FinalSnapshot = true
	b.destroy()
	snaps := b.cloud.RDS.FinalSnapshots()
	if len(snaps) != 1 {
		t.Fatalf("snapshots = %v", snaps)
	}
	for id, of := range snaps {
		if of != "database-1" || !regexp.MustCompile(`^database-1-final-\d{8}-\d{6}$`).MatchString(id) {
			t.Errorf("snapshot %s of %s", id, of)
		}
	}
	if !strings.Contains(b.logText(), "aws rds delete-db-snapshot") {
		t.Error("destroy did not say the snapshot is kept")
	}
	b.assertEmpty()
}

func TestRDSDestroyRetriesWhileTheInstanceIsModifying(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	b.cfg.Database.FinalSnapshot = true
	b.cloud.RDS.ModifyingDescribes = 3
	// A final snapshot cannot be taken while the instance is modifying.
	if _, err := b.cloud.RDS.ModifyDBInstance(bg, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), BackupRetentionPeriod: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	b.destroy()
	if n := b.cloud.CountCalls("DeleteDBInstance"); n < 2 {
		t.Errorf("DeleteDBInstance called %d times, want a retry", n)
	}
	b.assertEmpty()
}

func TestRDSLiveFactsInStatus(t *testing.T) {
	b := newRDSBed(t)
	b.build()
	pw := b.password()
	for _, show := range []bool{false, true} {
		stages, err := b.runner.Status(bg, show)
		if err != nil {
			t.Fatal(err)
		}
		ss := stages[2]
		facts := fmt.Sprint(ss.Facts)
		if !strings.Contains(facts, "database status available") || !strings.Contains(facts, "rds.amazonaws.com:3306") || !strings.Contains(facts, "db.t3.micro") || !strings.Contains(facts, "20 GB, autoscaling up to 100 GB") {
			t.Errorf("facts = %s", facts)
		}
		if got := ss.Secrets[SecretDBPassword]; (got == pw) != show {
			t.Errorf("show secrets %v: password shown %v", show, got == pw)
		}
	}
}
