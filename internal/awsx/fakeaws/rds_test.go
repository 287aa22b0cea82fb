package fakeaws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/myappctl/myappctl/internal/awsx"
)

// rdsNet makes a VPC with subnets in us-east-1c, us-east-1c and us-east-1d.
func rdsNet(t *testing.T, c *Cloud) (sameZone, otherZone []string) {
	t.Helper()
	ctx := context.Background()
	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, z := range []string{"us-east-1c", "us-east-1c", "us-east-1d"} {
		s, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, AvailabilityZone: aws.String(z),
			CidrBlock: aws.String([]string{"10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"}[i])})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(s.Subnet.SubnetId))
	}
	return ids[:2], []string{ids[0], ids[2]}
}

func rdsWantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := awsx.ErrorCode(err); got != code {
		t.Errorf("err = %v, want %s", err, code)
	}
}

func rdsCreateInput(password string) *rds.CreateDBInstanceInput {
	return &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("Database-1"), Engine: aws.String("mysql"),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("root"),
		MasterUserPassword: aws.String(password), DBSubnetGroupName: aws.String("db"), VpcSecurityGroupIds: []string{"sg-1"}}
}

func TestRDSSubnetGroupNeedsTwoZones(t *testing.T) {
	c := New()
	ctx := context.Background()
	sameZone, twoZones := rdsNet(t, c)
	_, err := c.RDS.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("db"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: sameZone})
	rdsWantCode(t, err, "DBSubnetGroupDoesNotCoverEnoughAZs")
	_, err = c.RDS.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("db"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: []string{"subnet-nope", twoZones[0]}})
	rdsWantCode(t, err, "InvalidSubnet")
	if _, err := c.RDS.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("DB"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: twoZones}); err != nil {
		t.Fatal(err)
	}
	out, err := c.RDS.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("db")})
	if err != nil || len(out.DBSubnetGroups[0].Subnets) != 2 {
		t.Errorf("describe: %v %+v", err, out)
	}
	_, err = c.RDS.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("other")})
	rdsWantCode(t, err, "DBSubnetGroupNotFoundFault")
}

func TestRDSInstanceLifecycle(t *testing.T) {
	c := New()
	ctx := context.Background()
	_, subnets := rdsNet(t, c)
	if _, err := c.RDS.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("db"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	bad := "has a space@/"
	_, err := c.RDS.CreateDBInstance(ctx, rdsCreateInput(bad))
	rdsWantCode(t, err, "InvalidParameterValue")
	if err != nil && strings.Contains(err.Error(), bad) {
		t.Error("the error message echoes the password")
	}
	if _, err := c.RDS.CreateDBInstance(ctx, rdsCreateInput("s3cret-enough")); err != nil {
		t.Fatal(err)
	}
	_, err = c.RDS.CreateDBInstance(ctx, rdsCreateInput("s3cret-enough"))
	rdsWantCode(t, err, "DBInstanceAlreadyExists")

	// creating ×2, backing-up ×1, then available with an endpoint.
	var seen []string
	for range 4 {
		out, err := c.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("database-1")})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, aws.ToString(out.DBInstances[0].DBInstanceStatus))
	}
	db, _ := c.RDS.DBInstance("database-1")
	if strings.Join(seen, ",") != "creating,creating,backing-up,available" || !strings.HasPrefix(aws.ToString(db.Endpoint.Address), "database-1.") || aws.ToInt32(db.Endpoint.Port) != 3306 {
		t.Errorf("statuses %v, endpoint %+v", seen, db.Endpoint)
	}

	// In use: the subnet group, the subnets.
	_, err = c.RDS.DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("db")})
	rdsWantCode(t, err, "InvalidDBSubnetGroupStateFault")
	_, err = c.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &subnets[0]})
	rdsWantCode(t, err, "DependencyViolation")

	// Delete needs SkipFinalSnapshot or a snapshot id, not both.
	_, err = c.RDS.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("database-1")})
	rdsWantCode(t, err, "InvalidParameterCombination")
	_, err = c.RDS.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), SkipFinalSnapshot: aws.Bool(true), FinalDBSnapshotIdentifier: aws.String("s")})
	rdsWantCode(t, err, "InvalidParameterCombination")
	if _, err := c.RDS.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), FinalDBSnapshotIdentifier: aws.String("database-1-final")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RDS.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), SkipFinalSnapshot: aws.Bool(true)})
	rdsWantCode(t, err, "InvalidDBInstanceState")
	for range 2 {
		if _, err := c.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("database-1")})
	rdsWantCode(t, err, "DBInstanceNotFound")
	if _, err := c.RDS.DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("db")}); err != nil {
		t.Errorf("subnet group still in use after the instance went: %v", err)
	}
	if c.RDS.FinalSnapshots()["database-1-final"] != "database-1" {
		t.Errorf("snapshots %v", c.RDS.FinalSnapshots())
	}
}
