package steps

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// Outputs of stage 5 that later stages read (the backend's DBURL, DBPORT,
// DBDATABASE, DBUSER). The password is a secret: r.State.Secret("rds",
// SecretDBPassword), never an output, never printed.
const (
	OutDBEndpoint    = "db_endpoint"
	OutDBPort        = "db_port"
	OutDBName        = "db_name"
	OutDBUsername    = "db_username"
	OutDBInstanceID  = "db_instance_id"
	SecretDBPassword = "db_password"
)

// rdsSecurityGroupOutput is the stage-2 output holding the db security group.
const rdsSecurityGroupOutput = "db_sg_id"

func rdsStage() *Stage {
	return &Stage{
		Number: 5, Name: "rds", Title: "MySQL database", Needs: []string{"vpc", "security"},
		Apply: applyRDS,
		Live:  liveRDS,
		// The instance first (its delete waits until it is gone), then its subnet group.
		Kinds: []*Kind{dbInstanceKind, dbSubnetGroupKind},
	}
}

func applyRDS(ctx context.Context, r *Run) error {
	subnets, sg, err := rdsInputs(r)
	if err != nil {
		return err
	}
	group, err := ensureDBSubnetGroup(ctx, r, subnets)
	if err != nil {
		return err
	}
	id, db, err := ensureDBInstance(ctx, r, group, sg)
	if err != nil {
		return err
	}
	return writeDBOutputs(r, id, db)
}

// rdsInputs reads the private subnets (stage 1) and the db security group
// (stage 2). A plan may run before those stages have: it plans with
// placeholders instead.
func rdsInputs(r *Run) (subnets []string, sg string, err error) {
	if s := r.Output("vpc", OutPrivateSubnets); s != "" {
		subnets = strings.Split(s, ",")
	}
	sg = r.Output("security", rdsSecurityGroupOutput)
	if r.DryRun {
		if len(subnets) == 0 {
			subnets = []string{plannedID("subnet/private-1"), plannedID("subnet/private-2")}
		}
		if sg == "" {
			sg = plannedID("security-group/db")
		}
	}
	switch {
	case len(subnets) < 2:
		return nil, "", fmt.Errorf("stage rds: stage vpc recorded %d private subnet(s) (output %s), the database needs 2 in two zones: run `myappctl step vpc`", len(subnets), OutPrivateSubnets)
	case sg == "":
		return nil, "", fmt.Errorf("stage rds: stage security has not recorded the database security group (output %s): run `myappctl step security`", rdsSecurityGroupOutput)
	}
	return subnets, sg, nil
}

// dbIdentifier is the DB instance identifier (RDS keeps it in lower case).
func dbIdentifier(r *Run) string { return strings.ToLower(r.Name(r.Cfg.Database.Identifier)) }

func ensureDBSubnetGroup(ctx context.Context, r *Run, subnets []string) (string, error) {
	name := dbIdentifier(r) + "-subnet-group"
	id, err := r.Ensure(ctx, Spec{Key: "db-subnet-group", Kind: dbSubnetGroupKind, Name: name, Detail: "private subnets " + strings.Join(subnets, ", "),
		Create: func(ctx context.Context, _ string) (string, error) {
			_, err := r.AWS.RDS.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String(name),
				DBSubnetGroupDescription: aws.String("private subnets of the " + r.Cfg.Stack + " database"),
				SubnetIds:                subnets, Tags: r.Tags(name).RDS()})
			return name, err
		}})
	if err != nil || isPlanned(id) {
		return id, err
	}
	g, err := describeDBSubnetGroup(ctx, r.Env, id)
	if err != nil || g == nil {
		return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: dbSubnetGroupKind.Type + " " + id, Err: err}
	}
	var have []string
	for _, s := range g.Subnets {
		have = append(have, aws.ToString(s.SubnetIdentifier))
	}
	if slices.Equal(slices.Sorted(slices.Values(have)), slices.Sorted(slices.Values(subnets))) {
		return id, nil
	}
	return id, r.change("modify", dbSubnetGroupKind.Type, name, fmt.Sprintf("subnets %v → %v", have, subnets), func() error {
		_, err := r.AWS.RDS.ModifyDBSubnetGroup(ctx, &rds.ModifyDBSubnetGroupInput{DBSubnetGroupName: aws.String(id), SubnetIds: subnets})
		return err
	})
}

// writeDBOutputs records where the database is. A planned instance has no
// endpoint yet.
func writeDBOutputs(r *Run, id string, db *rdstypes.DBInstance) error {
	d := r.Cfg.Database
	out := map[string]string{OutDBInstanceID: id, OutDBEndpoint: plannedID("database endpoint"), OutDBPort: "3306",
		OutDBName: d.Name, OutDBUsername: d.Username}
	if db != nil {
		// What the instance really has: a DB name and user cannot change.
		out[OutDBName], out[OutDBUsername] = aws.ToString(db.DBName), aws.ToString(db.MasterUsername)
		if e := db.Endpoint; e != nil && aws.ToString(e.Address) != "" {
			out[OutDBEndpoint], out[OutDBPort] = aws.ToString(e.Address), strconv.Itoa(int(aws.ToInt32(e.Port)))
		}
	}
	for _, k := range []string{OutDBInstanceID, OutDBEndpoint, OutDBPort, OutDBName, OutDBUsername} {
		if err := r.SetOutput(k, out[k]); err != nil {
			return err
		}
	}
	return nil
}

// liveRDS shows the database as AWS sees it now.
func liveRDS(ctx context.Context, r *Run) ([]Fact, error) {
	rec, ok := r.State.Resource(r.Stage.Name, "db-instance")
	if !ok {
		return nil, nil
	}
	db, err := describeDBInstance(ctx, r.Env, rec.ID)
	if err != nil {
		return nil, err
	}
	if db == nil {
		return []Fact{{Name: "database", Value: rec.ID + " is missing: run `myappctl up` to recreate it"}}, nil
	}
	endpoint := "-"
	if e := db.Endpoint; e != nil {
		endpoint = fmt.Sprintf("%s:%d", aws.ToString(e.Address), aws.ToInt32(e.Port))
	}
	storage := fmt.Sprintf("%d GB", aws.ToInt32(db.AllocatedStorage))
	if m := aws.ToInt32(db.MaxAllocatedStorage); m > 0 {
		storage += fmt.Sprintf(", autoscaling up to %d GB", m)
	}
	return []Fact{
		{Name: "database status", Value: aws.ToString(db.DBInstanceStatus)},
		{Name: "database endpoint", Value: endpoint},
		{Name: "database class", Value: aws.ToString(db.DBInstanceClass) + " (" + aws.ToString(db.Engine) + " " + aws.ToString(db.EngineVersion) + ")"},
		{Name: "database storage", Value: storage},
	}, nil
}
