package fakeaws

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

var (
	rdsIdentifierPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	rdsClassPattern      = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	rdsNamePattern       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)
	rdsUserPattern       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,15}$`)
)

// Error messages never contain a password, as AWS's do not.
func checkMasterPassword(pw string) error {
	if len(pw) < 8 || len(pw) > 41 {
		return APIError("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters or longer than 41.")
	}
	for _, c := range pw {
		if c < 0x21 || c > 0x7e || c == '/' || c == '@' || c == '"' {
			return APIError("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.")
		}
	}
	return nil
}

func checkIdentifier(id string) error {
	if !rdsIdentifierPattern.MatchString(id) || strings.HasSuffix(id, "-") || strings.Contains(id, "--") {
		return APIError("InvalidParameterValue", "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
	}
	return nil
}

func checkCreate(in *rds.CreateDBInstanceInput) error {
	if err := checkIdentifier(strings.ToLower(aws.ToString(in.DBInstanceIdentifier))); err != nil {
		return err
	}
	storage, ceiling := aws.ToInt32(in.AllocatedStorage), aws.ToInt32(in.MaxAllocatedStorage)
	switch e := aws.ToString(in.Engine); {
	case e != "mysql" && e != "mariadb" && e != "postgres":
		return APIError("InvalidParameterValue", "Invalid DB engine: %s", e)
	case !rdsClassPattern.MatchString(aws.ToString(in.DBInstanceClass)):
		return APIError("InvalidParameterCombination", "RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s.", aws.ToString(in.DBInstanceClass), e)
	case storage < 20 || storage > 65536:
		return APIError("InvalidParameterValue", "Invalid storage size for engine name %s and storage type gp2: %d", e, storage)
	case in.MaxAllocatedStorage != nil && ceiling <= storage:
		return APIError("InvalidParameterCombination", "Max storage size must be greater than storage size")
	case !rdsUserPattern.MatchString(aws.ToString(in.MasterUsername)):
		return APIError("InvalidParameterValue", "The parameter MasterUsername is not a valid identifier.")
	case in.DBName != nil && !rdsNamePattern.MatchString(*in.DBName):
		return APIError("InvalidParameterValue", "The parameter DBName is not a valid identifier.")
	case aws.ToInt32(in.BackupRetentionPeriod) < 0 || aws.ToInt32(in.BackupRetentionPeriod) > 35:
		return APIError("InvalidParameterValue", "The parameter BackupRetentionPeriod must be between 0 and 35.")
	case in.DBSubnetGroupName == nil:
		return APIError("InvalidParameterValue", "the fake needs a DBSubnetGroupName (it has no default VPC)")
	}
	return checkMasterPassword(aws.ToString(in.MasterUserPassword))
}

// securityGroupVPCs checks security group ids (call without the RDS lock)
// and returns the VPCs of those the EC2 fake knows; unknown well-formed ids
// are accepted, so tests may stub stage 2 with made-up ids.
func (f *RDS) securityGroupVPCs(ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if !strings.HasPrefix(id, "sg-") {
			return nil, APIError("InvalidParameterValue", "Invalid security group, groupId= %s", id)
		}
		if vpc, ok := f.ec2.SecurityGroupVPC(id); ok {
			out[id] = vpc
		}
	}
	return out, nil
}

func sameVPC(sgVPCs map[string]string, vpc string) error {
	for sg, v := range sgVPCs {
		if v != vpc {
			return APIError("InvalidParameterCombination", "The DB instance and EC2 security group %s are in different VPCs (%s, %s).", sg, vpc, v)
		}
	}
	return nil
}

func sgMemberships(ids []string) []rdstypes.VpcSecurityGroupMembership {
	var out []rdstypes.VpcSecurityGroupMembership
	for _, id := range ids {
		out = append(out, rdstypes.VpcSecurityGroupMembership{VpcSecurityGroupId: aws.String(id), Status: aws.String("active")})
	}
	return out
}

func (f *RDS) CreateDBInstance(ctx context.Context, in *rds.CreateDBInstanceInput, _ ...func(*rds.Options)) (*rds.CreateDBInstanceOutput, error) {
	fault, err := f.begin(ctx, "CreateDBInstance")
	if err != nil {
		return nil, err
	}
	if err := checkCreate(in); err != nil {
		return nil, err
	}
	sgVPCs, err := f.securityGroupVPCs(in.VpcSecurityGroupIds)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strings.ToLower(aws.ToString(in.DBInstanceIdentifier))
	if _, ok := f.instances[id]; ok {
		return nil, APIError("DBInstanceAlreadyExists", "DB instance already exists")
	}
	g, ok := f.groups[strings.ToLower(aws.ToString(in.DBSubnetGroupName))]
	if !ok {
		return nil, APIError("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", aws.ToString(in.DBSubnetGroupName))
	}
	if err := sameVPC(sgVPCs, aws.ToString(g.VpcId)); err != nil {
		return nil, err
	}
	version := aws.ToString(in.EngineVersion)
	if version == "" {
		version = "8.0.40"
	}
	d := &fakeDB{password: aws.ToString(in.MasterUserPassword), left: f.CreatingDescribes, db: rdstypes.DBInstance{
		DBInstanceIdentifier: aws.String(id), DBInstanceArn: aws.String(f.arn("db", id)), DBInstanceStatus: aws.String("creating"),
		Engine: in.Engine, EngineVersion: aws.String(version), DBInstanceClass: in.DBInstanceClass,
		AllocatedStorage: in.AllocatedStorage, MaxAllocatedStorage: in.MaxAllocatedStorage, DBName: in.DBName,
		MasterUsername: in.MasterUsername, DBSubnetGroup: copyGroup(g), VpcSecurityGroups: sgMemberships(in.VpcSecurityGroupIds),
		PubliclyAccessible: aws.Bool(aws.ToBool(in.PubliclyAccessible)), StorageEncrypted: aws.Bool(aws.ToBool(in.StorageEncrypted)),
		BackupRetentionPeriod: aws.Int32(aws.ToInt32(in.BackupRetentionPeriod)), MultiAZ: aws.Bool(aws.ToBool(in.MultiAZ)),
		CopyTagsToSnapshot: aws.Bool(aws.ToBool(in.CopyTagsToSnapshot)), DeletionProtection: aws.Bool(aws.ToBool(in.DeletionProtection)),
		StorageType: aws.String("gp2"), DbInstancePort: aws.Int32(0), InstanceCreateTime: aws.Time(time.Now().UTC()),
		AvailabilityZone: g.Subnets[0].SubnetAvailabilityZone.Name, PendingModifiedValues: &rdstypes.PendingModifiedValues{},
	}}
	f.instances[id] = d
	f.setTags(aws.ToString(d.db.DBInstanceArn), append([]rdstypes.Tag{}, in.Tags...))
	out := f.view(d)
	f.settle(id, d)
	return finish(&rds.CreateDBInstanceOutput{DBInstance: &out}, nil, fault)
}

// view is what describes return: a copy, with the tags.
func (f *RDS) view(d *fakeDB) rdstypes.DBInstance {
	c := d.db
	c.DBSubnetGroup = copyGroup(d.db.DBSubnetGroup)
	c.VpcSecurityGroups = append([]rdstypes.VpcSecurityGroupMembership(nil), d.db.VpcSecurityGroups...)
	p := *d.db.PendingModifiedValues
	c.PendingModifiedValues = &p
	if e := d.db.Endpoint; e != nil {
		c.Endpoint = &rdstypes.Endpoint{Address: e.Address, Port: e.Port, HostedZoneId: e.HostedZoneId}
	}
	c.TagList = append([]rdstypes.Tag(nil), f.tags[aws.ToString(d.db.DBInstanceArn)]...)
	return c
}

// settle moves an instance on once its current status has been shown for
// its count of describes: creating → backing-up → available, modifying →
// available, deleting → gone.
func (f *RDS) settle(id string, d *fakeDB) {
	for d.left <= 0 {
		switch aws.ToString(d.db.DBInstanceStatus) {
		case "creating":
			d.db.DBInstanceStatus, d.left = aws.String("backing-up"), f.BackingUpDescribes
			d.db.Endpoint = &rdstypes.Endpoint{Address: aws.String(id + "." + f.host + "." + f.Region + ".rds.amazonaws.com"),
				Port: aws.Int32(3306), HostedZoneId: aws.String("Z2R2ITUGPM61AM")}
		case "backing-up", "modifying", "resetting-master-credentials":
			d.db.DBInstanceStatus = aws.String("available")
			d.db.PendingModifiedValues.MasterUserPassword = nil
			return
		case "deleting":
			delete(f.instances, id)
			f.setTags(aws.ToString(d.db.DBInstanceArn), nil)
			return
		default:
			return
		}
	}
}

func (f *RDS) DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, _ ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	fault, err := f.begin(ctx, "DescribeDBInstances")
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 {
		return nil, APIError("InvalidParameterValue", "the fake supports no DescribeDBInstances filters")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := []string{strings.ToLower(aws.ToString(in.DBInstanceIdentifier))}
	out := &rds.DescribeDBInstancesOutput{}
	if in.DBInstanceIdentifier == nil {
		if ids, out.Marker, err = rdsPage(rdsSortedKeys(f.instances), in.Marker, in.MaxRecords); err != nil {
			return nil, err
		}
	} else if _, ok := f.instances[ids[0]]; !ok {
		return nil, APIError("DBInstanceNotFound", "DBInstance %s not found.", aws.ToString(in.DBInstanceIdentifier))
	}
	for _, id := range ids {
		d := f.instances[id]
		out.DBInstances = append(out.DBInstances, f.view(d))
		if f.CreatingTime > 0 && aws.ToString(d.db.DBInstanceStatus) == "creating" {
			if time.Since(aws.ToTime(d.db.InstanceCreateTime)) >= f.CreatingTime {
				d.left = 0
				f.settle(id, d) // creating → backing-up
				d.left = 0
				f.settle(id, d) // → available
			}
			continue
		}
		d.left--
		f.settle(id, d)
	}
	return finish(out, nil, fault)
}
