package steps

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

// The user data scripts (cloud-init runs a "#!" user data as a script):
// bootstrap.sh.tmpl installs a tier's release on a plain Ubuntu instance,
// fetching it from the artifacts bucket with the instance's role (the
// embedded instance.py signs its requests), and reports the outcome there;
// runtime.sh.tmpl only writes the service's environment and restarts it,
// for instances started from a tier AMI (stage 8's launch templates reuse
// it through renderRuntimeUserData). Neither holds a runtime setting or a
// secret: the services read those from Parameter Store.
//
//go:embed userdata/*.sh.tmpl userdata/instance.py
var userDataFS embed.FS

var userDataTemplates = template.Must(template.New("userdata").Funcs(template.FuncMap{
	"shq": shellQuote, "envq": envFileQuote,
}).ParseFS(userDataFS, "userdata/*.sh.tmpl"))

// instanceHelper is the Python helper the bootstrap script installs.
var instanceHelper = func() string {
	b, err := userDataFS.ReadFile("userdata/instance.py")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// envVar is one variable of a service's environment.
type envVar struct {
	Name, Value string
}

// runtimeSettings are a service's environment, in a stable order.
type runtimeSettings []envVar

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

func (s runtimeSettings) validate() error {
	for _, v := range s {
		if !envName.MatchString(v.Name) {
			return fmt.Errorf("runtime setting %q: not a variable name", v.Name)
		}
		if strings.ContainsAny(v.Value, "\n\r\x00") {
			return fmt.Errorf("runtime setting %s: value holds a line break or NUL", v.Name)
		}
	}
	return nil
}

// releaseRef is a tier's release in the artifacts bucket, as the bootstrap
// script fetches it with the instance's role.
type releaseRef struct {
	SHA256                string // of the binary: the release's identity
	Key                   string // releases/<tier>/<sha256>
	Bucket, Region, Stack string
}

// userDataPaths are where the scripts put things (tests point them at a
// temporary directory).
type userDataPaths struct {
	BinDir, UnitDir, ConfigDir, HelperDir string
	// InstallLog receives everything the script prints; a failed report
	// carries its tail.
	InstallLog string
	service    string
}

func defaultUserDataPaths() userDataPaths {
	return userDataPaths{BinDir: "/usr/local/bin", UnitDir: "/etc/systemd/system", ConfigDir: "/etc/myapp",
		HelperDir: "/usr/local/lib/myappctl", InstallLog: "/var/log/myappctl/install.log"}
}

func (p userDataPaths) Binary() string  { return p.BinDir + "/" + p.service }
func (p userDataPaths) Unit() string    { return p.UnitDir + "/" + p.service + ".service" }
func (p userDataPaths) EnvFile() string { return p.ConfigDir + "/" + p.service + ".env" }
func (p userDataPaths) Helper() string  { return p.HelperDir + "/instance.py" }

// userDataInput is what the templates render.
type userDataInput struct {
	Service string // systemd unit and binary name, e.g. myapp-backend
	Tier    string // frontend, backend
	// Env is the service's environment: where its settings and reports
	// live. Never a setting or a secret.
	Env     runtimeSettings
	Release releaseRef // bootstrap only
	Helper  string     // bootstrap only: instance.py
	Paths   userDataPaths
}

var (
	serviceName   = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// renderBootstrapUserData renders the first-boot script of an instance on
// plain Ubuntu: fetch, verify and install the release, write its unit and
// environment, start it, report installed (or failed, with the log tail).
func renderBootstrapUserData(tier, service string, env runtimeSettings, rel releaseRef, paths userDataPaths) (string, error) {
	if !sha256Pattern.MatchString(rel.SHA256) || rel.Key == "" || rel.Bucket == "" || rel.Region == "" || rel.Stack == "" {
		return "", fmt.Errorf("user data for %s: the release needs a sha256, an object key, a bucket, a region and a stack", service)
	}
	return renderUserData("bootstrap.sh.tmpl", userDataInput{Service: service, Tier: tier, Env: env, Release: rel, Helper: instanceHelper, Paths: paths})
}

// renderRuntimeUserData renders the script for an instance started from a
// tier AMI (or a launch template): write the environment, restart.
func renderRuntimeUserData(tier, service string, env runtimeSettings, paths userDataPaths) (string, error) {
	return renderUserData("runtime.sh.tmpl", userDataInput{Service: service, Tier: tier, Env: env, Paths: paths})
}

func renderUserData(name string, in userDataInput) (string, error) {
	if !serviceName.MatchString(in.Service) || !serviceName.MatchString(in.Tier) {
		return "", fmt.Errorf("user data: bad service %q or tier %q", in.Service, in.Tier)
	}
	if err := in.Env.validate(); err != nil {
		return "", fmt.Errorf("user data for %s: %w", in.Service, err)
	}
	in.Paths.service = in.Service
	var b bytes.Buffer
	if err := userDataTemplates.ExecuteTemplate(&b, name, in); err != nil {
		return "", fmt.Errorf("user data for %s: %w", in.Service, err)
	}
	return b.String(), nil
}

// shellQuote quotes s for bash: in single quotes, each ' closed, escaped
// and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// envFileQuote quotes a value for the env file, which both systemd
// (EnvironmentFile=) and a shell read the same way: double quotes, with \
// " $ and ` escaped. (systemd keeps quotes that follow other characters,
// so the shell's trick of closing and reopening single quotes would not
// survive it.)
func envFileQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`").Replace(s) + `"`
}
