// Package config holds myappctl's settings: their defaults (the documented
// setup), loading from file, MYAPP_* environment and flags, and validation
// that runs before any AWS call.
package config

import (
	"path/filepath"
	"time"
)

// DefaultStack is the stack whose resource names are exactly the documented
// ones ("MyApp-VPC", "frontend-tg", ...). Other stacks prefix them.
const DefaultStack = "myapp"

// Config is the whole configuration. Keys are the YAML/env names.
type Config struct {
	Stack       string `mapstructure:"stack"`
	Region      string `mapstructure:"region"`
	Profile     string `mapstructure:"profile"`
	EndpointURL string `mapstructure:"endpoint_url"`
	StateFile   string `mapstructure:"state_file"`

	InstanceType string `mapstructure:"instance_type"`
	KeyName      string `mapstructure:"key_name"`
	SSHCIDR      string `mapstructure:"ssh_cidr"`
	BaseAMI      string `mapstructure:"base_ami"`
	// ArtifactsDir holds the linux/amd64 binaries `make build` produces
	// (myapp-frontend, myapp-backend), which stages upload for the instances.
	ArtifactsDir string `mapstructure:"artifacts_dir"`
	// InstanceProfiles optionally names existing instance profiles (a name
	// such as a lab's LabInstanceProfile, or an ARN) per tier; the tool then
	// creates no IAM role or profile for that tier.
	InstanceProfiles InstanceProfiles `mapstructure:"instance_profiles"`
	// SettingsRefresh is how often the services re-read their settings
	// from Parameter Store (a relink reaches them within this time).
	SettingsRefresh time.Duration `mapstructure:"settings_refresh"`

	VPC         VPC         `mapstructure:"vpc"`
	Database    Database    `mapstructure:"database"`
	Autoscaling Autoscaling `mapstructure:"autoscaling"`
	Carousel    Carousel    `mapstructure:"carousel"`
	Wait        Wait        `mapstructure:"wait"`
}

// InstanceProfiles are existing instance profiles for the tiers' instances.
type InstanceProfiles struct {
	Frontend string `mapstructure:"frontend"`
	Backend  string `mapstructure:"backend"`
}

// VPC is stage 1's network layout.
type VPC struct {
	Name               string   `mapstructure:"name"`
	CIDR               string   `mapstructure:"cidr"`
	PublicSubnetCIDRs  []string `mapstructure:"public_subnet_cidrs"`
	PrivateSubnetCIDRs []string `mapstructure:"private_subnet_cidrs"`
	// AvailabilityZones optionally pins the four AZs (frontend 1-2, backend 3-4).
	AvailabilityZones []string `mapstructure:"availability_zones"`
}

// Database is stage 5's RDS instance.
type Database struct {
	Identifier          string `mapstructure:"identifier"`
	InstanceClass       string `mapstructure:"instance_class"`
	EngineVersion       string `mapstructure:"engine_version"`
	AllocatedStorage    int    `mapstructure:"allocated_storage"`
	MaxAllocatedStorage int    `mapstructure:"max_allocated_storage"`
	Name                string `mapstructure:"name"`
	Username            string `mapstructure:"username"`
	BackupRetentionDays int    `mapstructure:"backup_retention_days"`
	FinalSnapshot       bool   `mapstructure:"final_snapshot"`
}

// Autoscaling is stage 8's launch templates and groups.
type Autoscaling struct {
	Min                    int           `mapstructure:"min"`
	Max                    int           `mapstructure:"max"`
	Desired                int           `mapstructure:"desired"`
	HealthCheckGracePeriod time.Duration `mapstructure:"health_check_grace_period"`
	KeepBootstrapInstances bool          `mapstructure:"keep_bootstrap_instances"`
}

// Carousel is stage 9's bucket and Lambda.
type Carousel struct {
	Bucket       string `mapstructure:"bucket"`
	FunctionName string `mapstructure:"function_name"`
	// LambdaRoleARN is an existing role for the Lambda: a full ARN, or a role
	// name (e.g. LabRole) resolved in the caller's account.
	LambdaRoleARN string `mapstructure:"lambda_role_arn"`
}

// Wait sets how every wait polls and how long it may take.
type Wait struct {
	PollInterval time.Duration `mapstructure:"poll_interval"`
	Timeout      time.Duration `mapstructure:"timeout"`
	// DatabaseTimeout is longer: RDS takes many minutes to become available.
	DatabaseTimeout time.Duration `mapstructure:"database_timeout"`
	// DestroyTimeout bounds the whole destroy, including DependencyViolation retries.
	DestroyTimeout time.Duration `mapstructure:"destroy_timeout"`
	// Reports makes stages wait until instances report what they run
	// (false for emulators, which run no user data: a running instance
	// then counts as ready).
	Reports bool `mapstructure:"reports"`
}

// Defaults returns the documented setup.
func Defaults() Config {
	return Config{
		Stack:           DefaultStack,
		Region:          "us-east-1",
		InstanceType:    "t2.micro",
		ArtifactsDir:    "dist/linux-amd64",
		SettingsRefresh: 5 * time.Second,
		VPC: VPC{
			Name:               "MyApp-VPC",
			CIDR:               "10.0.0.0/16",
			PublicSubnetCIDRs:  []string{"10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"},
			PrivateSubnetCIDRs: []string{"10.0.128.0/20", "10.0.144.0/20"},
		},
		Database: Database{
			Identifier:          "database-1",
			InstanceClass:       "db.t3.micro",
			AllocatedStorage:    20,
			MaxAllocatedStorage: 100,
			Name:                "todo",
			Username:            "root",
			BackupRetentionDays: 1,
		},
		Autoscaling: Autoscaling{Min: 1, Max: 5, Desired: 2, HealthCheckGracePeriod: 120 * time.Second},
		Carousel:    Carousel{FunctionName: "syncS3Bucket"},
		Wait: Wait{
			PollInterval:    5 * time.Second,
			Timeout:         15 * time.Minute,
			DatabaseTimeout: 40 * time.Minute,
			DestroyTimeout:  30 * time.Minute,
			Reports:         true,
		},
	}
}

// Name returns a resource name for this stack: the documented name for the
// default stack, "<stack>-<name>" for any other, so two stacks can share an account.
func (c *Config) Name(base string) string {
	if c.Stack == DefaultStack {
		return base
	}
	return c.Stack + "-" + base
}

// StatePath is where the state file lives: state_file, else .myappctl/<stack>.json.
func (c *Config) StatePath() string {
	if c.StateFile != "" {
		return c.StateFile
	}
	return filepath.Join(".myappctl", c.Stack+".json")
}
