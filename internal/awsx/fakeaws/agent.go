package fakeaws

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/settings"
)

// Agent stands in for what runs on a myappctl instance, since no user data
// runs in the fake: the bootstrap script (fetch the tier's release from the
// artifacts bucket, install it, report "installed" or "failed" with its
// log) and the service (read its settings from Parameter Store, report
// "running" with its release and settings version). It reads the same
// environment the user data writes (REPORT_BUCKET, REPORT_TIER, STACK,
// SETTINGS_PATH; MYAPP_RELEASE for a bootstrap) and acts for every running
// instance whenever something reads reports from S3, writing the report
// objects as the instance would (no API call is logged for it). An
// instance launched from an image runs the release its image was baked
// with. Switches make it behave like clouds and instances that differ.
type Agent struct {
	c *Cloud

	mu sync.Mutex
	// Off: no user data runs (emulators): no instance ever reports.
	Off bool
	// SettingsLag is how many report reads pass before a running service
	// picks up changed settings (its refresh interval).
	SettingsLag int
	// SettingsDenied makes every settings read fail (an instance role that
	// may not read its path); the service keeps its last good settings.
	SettingsDenied bool

	services map[string]*agentService // by instance id
}

// agentService is what the fake remembers of one instance's service.
type agentService struct {
	version string // settings version applied
	pending string // a newer version seen, applied after SettingsLag reads
	waited  int
	failed  bool
	last    *settings.Report // the report last written
}

func newAgent(c *Cloud) *Agent {
	return &Agent{c: c, services: map[string]*agentService{}}
}

// agentInstance is what the agent needs of an instance (EC2 hands it out).
type agentInstance struct {
	id, userData, installed string
	profile                 string // instance profile ARN ("" without one)
	state                   types.InstanceStateName
}

// agentInstances lists the instances and the release installed on each.
func (f *EC2) agentInstances() []agentInstance {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	var out []agentInstance
	for _, id := range sortedKeys(c.instances) {
		fi := c.instances[id]
		in := agentInstance{id: id, userData: fi.userData, installed: fi.installed, state: fi.inst.State.Name}
		if p := fi.inst.IamInstanceProfile; p != nil {
			in.profile = aws.ToString(p.Arn)
		}
		out = append(out, in)
	}
	return out
}

// setInstalled records the release installed on an instance (images baked
// from it hold it too).
func (f *EC2) setInstalled(id, release string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, ok := f.compute().instances[id]; ok {
		fi.installed = release
	}
}

func (f *EC2) bootFailing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.compute().bootFails
}

var (
	envLine     = regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]*)="((?:[^"\\]|\\.)*)"$`)
	releaseLine = regexp.MustCompile(`(?m)\bMYAPP_RELEASE='([0-9a-f]{64})'`)
)

// serviceEnv reads the environment a myappctl user data writes.
func serviceEnv(userData string) map[string]string {
	env := map[string]string{}
	for _, m := range envLine.FindAllStringSubmatch(userData, -1) {
		v := strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\$`, `$`, "\\`", "`").Replace(m[2])
		env[m[1]] = v
	}
	if m := releaseLine.FindStringSubmatch(userData); m != nil {
		env["MYAPP_RELEASE"] = m[1]
	}
	return env
}

// sync lets every running instance do what its user data and service
// would have done by now.
func (a *Agent) sync() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Off {
		return
	}
	failing := a.c.EC2.bootFailing()
	for _, in := range a.c.EC2.agentInstances() {
		if in.state != types.InstanceStateNameRunning {
			continue
		}
		env := serviceEnv(in.userData)
		bucket, tier := env["REPORT_BUCKET"], env["REPORT_TIER"]
		if bucket == "" || tier == "" {
			continue // not a myappctl instance
		}
		if !a.allowed(in.profile, "s3:PutObject", "arn:aws:s3:::"+bucket+"/"+settings.ReportKey(tier, in.id)) {
			continue // no credentials, or a role that may not write its report: silence
		}
		svc := a.services[in.id]
		if svc == nil {
			svc = &agentService{}
			a.services[in.id] = svc
		}
		rep := settings.Report{Stack: env["STACK"], Tier: tier, Instance: in.id, Time: time.Now().UTC().Truncate(time.Second)}
		installed := in.installed
		if installed == "" && env["MYAPP_RELEASE"] != "" && !svc.failed {
			rep.Release = env["MYAPP_RELEASE"]
			if why := a.install(in.profile, bucket, tier, rep.Release, failing); why != "" {
				svc.failed = true
				rep.Status, rep.Log = settings.StatusFailed, installLog(why)
				a.write(bucket, rep, svc)
				continue
			}
			installed = rep.Release
			a.c.EC2.setInstalled(in.id, installed)
		}
		if installed == "" || svc.failed {
			continue
		}
		rep.Release, rep.Status = installed, settings.StatusRunning
		rep.SettingsVersion, rep.SettingsError = a.readSettings(in.profile, env["SETTINGS_PATH"], svc)
		a.write(bucket, rep, svc)
	}
}

// install is the bootstrap script's download: the reason it fails, or "".
func (a *Agent) install(profile, bucket, tier, release string, failing bool) string {
	key := "releases/" + tier + "/" + release
	switch {
	case failing:
		return "E: Unable to locate package myapp (injected install failure)"
	case !a.allowed(profile, "s3:GetObject", "arn:aws:s3:::"+bucket+"/"+key):
		return "instance.py: GET " + key + ": HTTP 403 AccessDenied"
	}
	if _, ok := a.c.S3.Object(bucket, key); !ok {
		return "instance.py: GET " + key + ": HTTP 404 NoSuchKey"
	}
	return ""
}

// allowed is what the instance's role may do (IAM.Allowed); without a
// profile an instance has no credentials at all.
func (a *Agent) allowed(profile, action, resource string) bool {
	if profile == "" {
		return false
	}
	ok, err := a.c.IAM.Allowed(profile, action, resource)
	return ok && err == nil
}

func installLog(why string) []string {
	return []string{"+ python3 /usr/local/lib/myappctl/instance.py get ...", why, "MYAPPCTL-FAILED line 42 (exit 1)"}
}

// readSettings is the service's periodic read of its path: the version it
// applies (after SettingsLag reads) and the error of a failed read.
func (a *Agent) readSettings(profile, path string, svc *agentService) (version, failure string) {
	if a.SettingsDenied || !a.allowed(profile, "ssm:GetParametersByPath", ParameterARN(a.c.SSM.Region, path)) {
		return svc.version, "AccessDeniedException: not authorized to perform ssm:GetParametersByPath on " + path
	}
	values := map[string]string{}
	for _, name := range a.c.SSM.ParameterNames() {
		if rest, ok := strings.CutPrefix(name, path); ok && path != "" && !strings.Contains(rest, "/") {
			p, _ := a.c.SSM.Parameter(name)
			values[rest] = p.Value
		}
	}
	v := settings.Version(values)
	switch {
	case svc.version == "" || v == svc.version || a.SettingsLag == 0:
		svc.version, svc.pending, svc.waited = v, "", 0
	case v != svc.pending:
		svc.pending, svc.waited = v, 1
	default:
		if svc.waited++; svc.waited > a.SettingsLag {
			svc.version, svc.pending, svc.waited = v, "", 0
		}
	}
	return svc.version, ""
}

// write stores the report as the instance would, when it changed.
func (a *Agent) write(bucket string, rep settings.Report, svc *agentService) {
	if svc.last != nil {
		same := *svc.last
		same.Time = rep.Time
		if reflect.DeepEqual(same, rep) {
			return
		}
	}
	data, _ := json.Marshal(rep)
	if a.c.S3.putInternal(bucket, settings.ReportKey(rep.Tier, rep.Instance), data, "application/json") {
		svc.last = &rep
	}
}

// Configure changes switches under the agent's lock.
func (a *Agent) Configure(fn func(a *Agent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fn(a)
}

// SetInstalled says what an instance or image has installed: "" plays an
// app that does not report (one an earlier myappctl installed). For tests.
func (f *EC2) SetInstalled(id, release string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	if fi, ok := c.instances[id]; ok {
		fi.installed = release
	}
	if im, ok := c.images[id]; ok {
		im.installed = release
	}
}

// SetTag sets (or, with an empty value, removes) a tag of an instance or
// image (for tests that play resources an earlier myappctl made).
func (f *EC2) SetTag(id, key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	set := func(tags []types.Tag) []types.Tag {
		tags = slices.DeleteFunc(tags, func(t types.Tag) bool { return aws.ToString(t.Key) == key })
		if value != "" {
			tags = append(tags, types.Tag{Key: aws.String(key), Value: aws.String(value)})
		}
		return tags
	}
	if fi, ok := c.instances[id]; ok {
		fi.inst.Tags = set(fi.inst.Tags)
	}
	if im, ok := c.images[id]; ok {
		im.img.Tags = set(im.img.Tags)
	}
}

// RenameImage changes an image's name (for tests that play an AMI an
// earlier myappctl made).
func (f *EC2) RenameImage(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if im, ok := f.compute().images[id]; ok {
		im.img.Name = aws.String(name)
	}
}
