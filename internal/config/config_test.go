package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestDefaultsAreTheDocumentedSetupAndValid(t *testing.T) {
	c := Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Region != "us-east-1" || c.VPC.CIDR != "10.0.0.0/16" || c.InstanceType != "t2.micro" || c.Database.Name != "todo" ||
		c.Database.Username != "root" || c.Database.AllocatedStorage != 20 || c.Carousel.FunctionName != "syncS3Bucket" {
		t.Errorf("defaults = %+v", c)
	}
	if c.Name("frontend-tg") != "frontend-tg" {
		t.Error("the default stack must keep documented names")
	}
	c.Stack = "dev"
	if c.Name("frontend-tg") != "dev-frontend-tg" || c.StatePath() != filepath.Join(".myappctl", "dev.json") {
		t.Errorf("names for stack dev: %s, %s", c.Name("frontend-tg"), c.StatePath())
	}
}

func TestValidateNamesTheBadKey(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		key    string
	}{
		{"stack upper", func(c *Config) { c.Stack = "MyApp" }, "stack:"},
		{"stack too long for LB names", func(c *Config) { c.Stack = "a23456789012345678901" }, "stack:"},
		{"region", func(c *Config) { c.Region = "mars-1" }, "region:"},
		{"endpoint", func(c *Config) { c.EndpointURL = "localhost:4566" }, "endpoint_url:"},
		{"vpc cidr parse", func(c *Config) { c.VPC.CIDR = "10.0.0.0/33" }, "vpc.cidr:"},
		{"vpc cidr host bits", func(c *Config) { c.VPC.CIDR = "10.0.1.0/16" }, "vpc.cidr:"},
		{"vpc too big", func(c *Config) { c.VPC.CIDR = "10.0.0.0/8" }, "vpc.cidr:"},
		{"documented /16 subnet mistake", func(c *Config) { c.VPC.PublicSubnetCIDRs[2] = "10.0.0.0/16" }, "vpc.public_subnet_cidrs[2]:"},
		{"subnet outside vpc", func(c *Config) { c.VPC.PublicSubnetCIDRs[0] = "10.1.0.0/20" }, "vpc.public_subnet_cidrs[0]:"},
		{"subnets overlap", func(c *Config) { c.VPC.PrivateSubnetCIDRs[1] = "10.0.8.0/24" }, "vpc.private_subnet_cidrs[1]:"},
		{"three public subnets", func(c *Config) { c.VPC.PublicSubnetCIDRs = c.VPC.PublicSubnetCIDRs[:3] }, "vpc.public_subnet_cidrs:"},
		{"zones count", func(c *Config) { c.VPC.AvailabilityZones = []string{"us-east-1a"} }, "vpc.availability_zones:"},
		{"zone of another region", func(c *Config) {
			c.VPC.AvailabilityZones = []string{"us-east-1a", "us-east-1b", "us-east-1c", "eu-west-1a"}
		}, "vpc.availability_zones[3]:"},
		{"instance type", func(c *Config) { c.InstanceType = "micro" }, "instance_type:"},
		{"ssh cidr", func(c *Config) { c.SSHCIDR = "1.2.3.4" }, "ssh_cidr:"},
		{"ami", func(c *Config) { c.BaseAMI = "ubuntu" }, "base_ami:"},
		{"db class", func(c *Config) { c.Database.InstanceClass = "t3.micro" }, "database.instance_class:"},
		{"db storage", func(c *Config) { c.Database.AllocatedStorage = 5 }, "database.allocated_storage:"},
		{"db ceiling", func(c *Config) { c.Database.MaxAllocatedStorage = 20 }, "database.max_allocated_storage:"},
		{"db name", func(c *Config) { c.Database.Name = "to-do" }, "database.name:"},
		{"db identifier", func(c *Config) { c.Database.Identifier = "database--1" }, "database.identifier:"},
		{"asg desired", func(c *Config) { c.Autoscaling.Desired = 9 }, "autoscaling.desired:"},
		{"asg min max", func(c *Config) { c.Autoscaling.Min = 6 }, "autoscaling:"},
		{"bucket", func(c *Config) { c.Carousel.Bucket = "Carrousel_For_Todo" }, "carousel.bucket:"},
		{"role arn", func(c *Config) { c.Carousel.LambdaRoleARN = "role/LabRole" }, "carousel.lambda_role_arn:"},
		{"instance profile", func(c *Config) { c.InstanceProfiles.Backend = "role/LabRole" }, "instance_profiles.backend:"},
		{"instance profile arn", func(c *Config) { c.InstanceProfiles.Frontend = "arn:aws:iam::123:instance-profile/x" }, "instance_profiles.frontend:"},
		{"settings refresh", func(c *Config) { c.SettingsRefresh = 100 * time.Millisecond }, "settings_refresh:"},
		{"poll interval", func(c *Config) { c.Wait.PollInterval = 0 }, "wait.poll_interval:"},
		{"negative timeout", func(c *Config) { c.Wait.Timeout = -time.Second }, "wait.timeout:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			c.VPC.PublicSubnetCIDRs = append([]string(nil), c.VPC.PublicSubnetCIDRs...)
			c.VPC.PrivateSubnetCIDRs = append([]string(nil), c.VPC.PrivateSubnetCIDRs...)
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("err = %v, want it to name %q", err, tt.key)
			}
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPrecedenceFileEnvFlags(t *testing.T) {
	file := writeFile(t, "stack: fromfile\nregion: eu-west-1\ninstance_type: t3.micro\nvpc:\n  cidr: 10.0.0.0/16\nwait:\n  poll_interval: 2s\n")
	t.Setenv("MYAPP_REGION", "eu-central-1")
	t.Setenv("MYAPP_WAIT_TIMEOUT", "7m")
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.String("region", "", "")
	flags.String("stack", DefaultStack, "")
	if err := flags.Parse([]string{"--region", "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(LoadOptions{File: file, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stack != "fromfile" { // the unset --stack flag does not override the file
		t.Errorf("stack = %s", c.Stack)
	}
	if c.Region != "us-west-2" || c.Wait.Timeout != 7*time.Minute || c.Wait.PollInterval != 2*time.Second || c.InstanceType != "t3.micro" {
		t.Errorf("config = %+v", c)
	}
}

func TestLoadEnvLists(t *testing.T) {
	t.Setenv("MYAPP_VPC_AVAILABILITY_ZONES", "us-east-1a,us-east-1b,us-east-1c,us-east-1d")
	c, err := Load(LoadOptions{File: writeFile(t, "stack: x\n")})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.VPC.AvailabilityZones) != 4 || c.VPC.AvailabilityZones[3] != "us-east-1d" {
		t.Errorf("zones = %v", c.VPC.AvailabilityZones)
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"unknown key", "stack: x\ninstance_typ: t2.micro\n", "instance_typ"},
		{"bad yaml", "stack: [x\n", "not valid YAML"},
		{"wrong type", "autoscaling:\n  max: many\n", "autoscaling.max"},
		{"bad duration", "wait:\n  timeout: soon\n", "wait.timeout"},
		{"invalid value", "vpc:\n  cidr: 10.0.0.0/12\n", "vpc.cidr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, tt.content)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := Load(LoadOptions{File: "/nonexistent/c.yaml"}); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("missing file: %v", err)
	}
}

func TestShippedConfigsAreValid(t *testing.T) {
	for _, name := range []string{"example.yaml", "learner-lab.yaml"} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(LoadOptions{File: filepath.Join("..", "..", "configs", name)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestExampleDocumentsEveryKey keeps configs/example.yaml complete: every
// key the tool reads appears there (commented or set).
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, key := range allKeys() {
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(text, leaf+":") {
			t.Errorf("configs/example.yaml does not document %s", key)
		}
	}
}

func TestUnknownKeysNameTheFileAndTheClosestKey(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"typo", "instnace_type: t3.micro\n", `unknown key "instnace_type" (did you mean "instance_type"?)`},
		{"nested typo", "database:\n  instnace_class: db.t3.small\n", `unknown key "database.instnace_class" (did you mean "database.instance_class"?)`},
		{"misspelt section", "databse:\n  name: todo\n", `unknown key "databse.name" (did you mean "database.name"?)`},
		{"in the wrong section", "instance_class: db.t3.small\n", `unknown key "instance_class" (did you mean "database.instance_class"?)`},
		{"nothing close", "colour: blue\n", `unknown key "colour" (configs/example.yaml lists every key)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, tt.content)
			_, err := Load(LoadOptions{File: file})
			if err == nil || err.Error() != file+": "+tt.want {
				t.Fatalf("err = %v\nwant  %s: %s", err, file, tt.want)
			}
		})
	}
	if _, err := Load(LoadOptions{File: writeFile(t, "vpc:\ncarousel: {}\n")}); err != nil {
		t.Errorf("empty sections: %v", err)
	}
	file := writeFile(t, "regoin: us-east-1\nwait:\n  pol_interval: 5s\n")
	_, err := Load(LoadOptions{File: file})
	want := file + `: unknown key "regoin" (did you mean "region"?)` + "\n" + file + `: unknown key "wait.pol_interval" (did you mean "wait.poll_interval"?)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}
