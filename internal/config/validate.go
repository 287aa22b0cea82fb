package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/myappctl/myappctl/internal/state"
)

var (
	stackPattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	regionPattern   = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	azPattern       = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$`)
	instancePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	dbClassPattern  = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	amiPattern      = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	bucketPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	dbIDPattern     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{0,62}$`)
	dbNamePattern   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)
	roleARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// An instance profile: a name (128 characters at most) or its ARN.
	profileARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/[\w+=,.@/-]+$`)
	profileNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	functionPattern    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
)

// ValidationError lists every invalid key at once, so one run shows them all.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

type checker struct{ problems []string }

func (c *checker) add(key, format string, args ...any) {
	c.problems = append(c.problems, key+": "+fmt.Sprintf(format, args...))
}

// Validate checks every value; it makes no AWS call.
func (c *Config) Validate() error {
	var ch checker
	c.validateIdentity(&ch)
	c.validateNetwork(&ch)
	c.validateCompute(&ch)
	c.validateInstanceIdentity(&ch)
	c.validateDatabase(&ch)
	c.validateAutoscaling(&ch)
	c.validateCarousel(&ch)
	c.validateWait(&ch)
	if len(ch.problems) > 0 {
		return &ValidationError{Problems: ch.problems}
	}
	return nil
}

func (c *Config) validateIdentity(ch *checker) {
	// 20 characters keep "<stack>-frontend-lb" within AWS's 32-character limit
	// for load balancer and target group names.
	if !stackPattern.MatchString(c.Stack) {
		ch.add("stack", "%q must be 1-20 lowercase letters, digits or '-', starting with a letter", c.Stack)
	}
	if !regionPattern.MatchString(c.Region) {
		ch.add("region", "%q is not an AWS region name like us-east-1", c.Region)
	}
	if c.EndpointURL != "" {
		if err := checkURL(c.EndpointURL); err != nil {
			ch.add("endpoint_url", "%v", err)
		}
	}
	if state.IsS3URL(c.StateFile) {
		if _, err := state.ParseS3URL(c.StateFile); err != nil {
			ch.add("state_file", "%v", err)
		}
	}
}

func (c *Config) validateNetwork(ch *checker) {
	vpc, err := netip.ParsePrefix(c.VPC.CIDR)
	switch {
	case err != nil:
		ch.add("vpc.cidr", "%q is not a CIDR block like 10.0.0.0/16", c.VPC.CIDR)
	case !vpc.Addr().Is4() || vpc != vpc.Masked():
		ch.add("vpc.cidr", "%q must be an IPv4 network address (did you mean %s?)", c.VPC.CIDR, vpc.Masked())
	case vpc.Bits() < 16 || vpc.Bits() > 24:
		ch.add("vpc.cidr", "%q: a VPC block must be between /16 and /24", c.VPC.CIDR)
	}
	if c.VPC.Name == "" || len(c.Name(c.VPC.Name)) > 255 {
		ch.add("vpc.name", "must be 1-255 characters")
	}
	if len(c.VPC.PublicSubnetCIDRs) != 4 {
		ch.add("vpc.public_subnet_cidrs", "needs exactly 4 blocks (frontend 1-2, backend 3-4), got %d", len(c.VPC.PublicSubnetCIDRs))
	}
	if len(c.VPC.PrivateSubnetCIDRs) != 2 {
		ch.add("vpc.private_subnet_cidrs", "needs exactly 2 blocks (the database subnets), got %d", len(c.VPC.PrivateSubnetCIDRs))
	}
	var seen []namedPrefix
	for i, s := range c.VPC.PublicSubnetCIDRs {
		seen = append(seen, checkSubnet(ch, fmt.Sprintf("vpc.public_subnet_cidrs[%d]", i), s, vpc, err == nil)...)
	}
	for i, s := range c.VPC.PrivateSubnetCIDRs {
		seen = append(seen, checkSubnet(ch, fmt.Sprintf("vpc.private_subnet_cidrs[%d]", i), s, vpc, err == nil)...)
	}
	for i := range seen {
		for j := i + 1; j < len(seen); j++ {
			if seen[i].p.Overlaps(seen[j].p) {
				ch.add(seen[j].key, "%s overlaps %s (%s)", seen[j].p, seen[i].key, seen[i].p)
			}
		}
	}
	if n := len(c.VPC.AvailabilityZones); n != 0 && n != 4 {
		ch.add("vpc.availability_zones", "give exactly 4 zones or none (they are then chosen from the region), got %d", n)
	}
	for i, az := range c.VPC.AvailabilityZones {
		if !azPattern.MatchString(az) || !strings.HasPrefix(az, c.Region) {
			ch.add(fmt.Sprintf("vpc.availability_zones[%d]", i), "%q is not a zone of region %s", az, c.Region)
		}
	}
}

type namedPrefix struct {
	key string
	p   netip.Prefix
}

func checkSubnet(ch *checker, key, s string, vpc netip.Prefix, vpcOK bool) []namedPrefix {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		ch.add(key, "%q is not an IPv4 CIDR block like 10.0.0.0/20", s)
		return nil
	}
	if p != p.Masked() {
		ch.add(key, "%q is not a network address (did you mean %s?)", s, p.Masked())
		return nil
	}
	if p.Bits() > 28 {
		ch.add(key, "%q is smaller than AWS's minimum subnet size /28", s)
	}
	if vpcOK && (p.Bits() < vpc.Bits() || !vpc.Contains(p.Addr())) {
		ch.add(key, "%q is not inside the VPC block %s", s, vpc)
	} else if vpcOK && p.Bits() == vpc.Bits() {
		ch.add(key, "%q is the whole VPC block; subnets must be smaller (e.g. /20)", s)
	}
	return []namedPrefix{{key, p}}
}

func (c *Config) validateCompute(ch *checker) {
	if !instancePattern.MatchString(c.InstanceType) {
		ch.add("instance_type", "%q is not an EC2 instance type like t2.micro", c.InstanceType)
	}
	if c.KeyName != "" && len(c.KeyName) > 255 {
		ch.add("key_name", "must be at most 255 characters")
	}
	if c.SSHCIDR != "" {
		if p, err := netip.ParsePrefix(c.SSHCIDR); err != nil || p != p.Masked() {
			ch.add("ssh_cidr", "%q is not a CIDR block like 203.0.113.7/32", c.SSHCIDR)
		}
	}
	if c.BaseAMI != "" && !amiPattern.MatchString(c.BaseAMI) {
		ch.add("base_ami", "%q is not an AMI id like ami-0123456789abcdef0", c.BaseAMI)
	}
	if strings.TrimSpace(c.ArtifactsDir) == "" {
		ch.add("artifacts_dir", "must name the directory `make build` writes the linux/amd64 binaries to (default dist/linux-amd64)")
	}
}

func (c *Config) validateDatabase(ch *checker) {
	d := c.Database
	if !dbIDPattern.MatchString(d.Identifier) || strings.HasSuffix(d.Identifier, "-") || strings.Contains(d.Identifier, "--") {
		ch.add("database.identifier", "%q must start with a letter, hold letters, digits and single hyphens, 1-63 characters", d.Identifier)
	}
	if !dbClassPattern.MatchString(d.InstanceClass) {
		ch.add("database.instance_class", "%q is not a DB instance class like db.t3.micro", d.InstanceClass)
	}
	if d.AllocatedStorage < 20 || d.AllocatedStorage > 65536 {
		ch.add("database.allocated_storage", "%d GB is outside 20-65536", d.AllocatedStorage)
	}
	if d.MaxAllocatedStorage != 0 && d.MaxAllocatedStorage <= d.AllocatedStorage {
		ch.add("database.max_allocated_storage", "%d must be larger than allocated_storage (%d) to enable storage autoscaling, or 0 to disable it", d.MaxAllocatedStorage, d.AllocatedStorage)
	}
	if !dbNamePattern.MatchString(d.Name) {
		ch.add("database.name", "%q must start with a letter and hold letters, digits or '_'", d.Name)
	}
	if !dbNamePattern.MatchString(d.Username) || len(d.Username) > 16 {
		ch.add("database.username", "%q must start with a letter, 1-16 letters, digits or '_'", d.Username)
	}
	if d.BackupRetentionDays < 0 || d.BackupRetentionDays > 35 {
		ch.add("database.backup_retention_days", "%d is outside 0-35", d.BackupRetentionDays)
	}
}

func (c *Config) validateAutoscaling(ch *checker) {
	a := c.Autoscaling
	if a.Min < 0 || a.Max < 1 || a.Min > a.Max {
		ch.add("autoscaling", "min %d / max %d: need 0 <= min <= max and max >= 1", a.Min, a.Max)
	} else if a.Desired < a.Min || a.Desired > a.Max {
		ch.add("autoscaling.desired", "%d must lie between min %d and max %d", a.Desired, a.Min, a.Max)
	}
	if a.HealthCheckGracePeriod < 0 {
		ch.add("autoscaling.health_check_grace_period", "must not be negative")
	}
}

func (c *Config) validateCarousel(ch *checker) {
	k := c.Carousel
	if k.Bucket != "" && (!bucketPattern.MatchString(k.Bucket) || strings.Contains(k.Bucket, "..")) {
		ch.add("carousel.bucket", "%q is not a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')", k.Bucket)
	}
	if !functionPattern.MatchString(k.FunctionName) {
		ch.add("carousel.function_name", "%q must be 1-64 letters, digits, '-' or '_'", k.FunctionName)
	}
	if k.LambdaRoleARN != "" && !roleARNPattern.MatchString(k.LambdaRoleARN) && !roleNamePattern.MatchString(k.LambdaRoleARN) {
		ch.add("carousel.lambda_role_arn", "%q is neither an IAM role ARN like arn:aws:iam::123456789012:role/LabRole nor a role name like LabRole", k.LambdaRoleARN)
	}
}

// validateInstanceIdentity checks the configured instance profiles and how
// often the services re-read their settings.
func (c *Config) validateInstanceIdentity(ch *checker) {
	for _, p := range []struct{ key, v string }{
		{"instance_profiles.frontend", c.InstanceProfiles.Frontend}, {"instance_profiles.backend", c.InstanceProfiles.Backend},
	} {
		if p.v != "" && !profileARNPattern.MatchString(p.v) && !profileNamePattern.MatchString(p.v) {
			ch.add(p.key, "%q is neither an instance profile name like LabInstanceProfile nor an ARN like arn:aws:iam::123456789012:instance-profile/LabInstanceProfile", p.v)
		}
	}
	if c.SettingsRefresh < time.Second || c.SettingsRefresh > 10*time.Minute {
		ch.add("settings_refresh", "%v must lie between 1s and 10m (how often the services re-read their settings)", c.SettingsRefresh)
	}
}

func (c *Config) validateWait(ch *checker) {
	for _, w := range []struct {
		key string
		d   time.Duration
	}{
		{"wait.poll_interval", c.Wait.PollInterval}, {"wait.timeout", c.Wait.Timeout},
		{"wait.database_timeout", c.Wait.DatabaseTimeout}, {"wait.destroy_timeout", c.Wait.DestroyTimeout},
	} {
		if w.d <= 0 {
			ch.add(w.key, "must be a positive duration like 5s or 15m, got %v", w.d)
		}
	}
	if c.Wait.PollInterval > 0 && c.Wait.Timeout > 0 && c.Wait.PollInterval > c.Wait.Timeout {
		ch.add("wait.poll_interval", "%v is longer than wait.timeout %v", c.Wait.PollInterval, c.Wait.Timeout)
	}
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an http:// or https:// URL with a host, like http://localhost:4566", s)
	}
	return nil
}
