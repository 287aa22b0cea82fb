package steps

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

// The user data scripts (cloud-init runs a "#!" user data as a script):
// bootstrap.sh.tmpl installs an app on a plain Ubuntu instance and
// configures it; runtime.sh.tmpl only writes the runtime settings and
// restarts the service, for instances started from a baked AMI (stage 8's
// launch templates reuse it through renderRuntimeUserData).
//
//go:embed userdata/*.sh.tmpl
var userDataFS embed.FS

var userDataTemplates = template.Must(template.New("userdata").Funcs(template.FuncMap{
	"shq": shellQuote, "envq": envFileQuote,
}).ParseFS(userDataFS, "userdata/*.sh.tmpl"))

// Console markers the scripts print when done (stages read them with
// GetConsoleOutput before baking an AMI).
const (
	markerReady      = "MYAPPCTL-READY"      // bootstrap: installed, configured, running
	markerConfigured = "MYAPPCTL-CONFIGURED" // runtime settings written, service restarted
	markerFailed     = "MYAPPCTL-FAILED"
)

// envVar is one runtime setting of a service.
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

// hash identifies the settings (the config tag on instances); it changes
// when any name or value does, and not with their order.
func (s runtimeSettings) hash() string {
	lines := make([]string, 0, len(s))
	for _, v := range s {
		lines = append(lines, v.Name+"="+v.Value)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:8])
}

// artifactRef is an app binary in the artifacts bucket, as an instance
// downloads it.
type artifactRef struct {
	URL    string // presigned GET
	SHA256 string
}

// userDataPaths are where the scripts put things (tests point them at a
// temporary directory).
type userDataPaths struct {
	BinDir, UnitDir, ConfigDir string
	// InstanceIDFile holds the id of the instance cloud-init runs on.
	InstanceIDFile string
	service        string
}

func defaultUserDataPaths() userDataPaths {
	return userDataPaths{BinDir: "/usr/local/bin", UnitDir: "/etc/systemd/system", ConfigDir: "/etc/myapp",
		InstanceIDFile: "/var/lib/cloud/data/instance-id"}
}

func (p userDataPaths) Binary() string  { return p.BinDir + "/" + p.service }
func (p userDataPaths) Unit() string    { return p.UnitDir + "/" + p.service + ".service" }
func (p userDataPaths) EnvFile() string { return p.ConfigDir + "/" + p.service + ".env" }

// Stamp records which instance the settings were written on.
func (p userDataPaths) Stamp() string { return p.ConfigDir + "/" + p.service + ".instance" }

// userDataInput is what the templates render.
type userDataInput struct {
	Service    string // systemd unit and binary name, e.g. myapp-backend
	Settings   runtimeSettings
	ConfigHash string
	Artifact   artifactRef // bootstrap only
	Paths      userDataPaths
}

var serviceName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// renderBootstrapUserData renders the first-boot script of a tier's source
// instance: download, verify and install the binary, write its unit and
// settings, start it, print the ready marker.
func renderBootstrapUserData(service string, settings runtimeSettings, art artifactRef, paths userDataPaths) (string, error) {
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(art.SHA256) || art.URL == "" {
		return "", fmt.Errorf("user data for %s: the artifact needs a URL and a sha256", service)
	}
	return renderUserData("bootstrap.sh.tmpl", userDataInput{Service: service, Settings: settings, Artifact: art, Paths: paths})
}

// renderRuntimeUserData renders the script for an instance started from a
// baked AMI (or a launch template): write the settings, restart the service.
func renderRuntimeUserData(service string, settings runtimeSettings, paths userDataPaths) (string, error) {
	return renderUserData("runtime.sh.tmpl", userDataInput{Service: service, Settings: settings, Paths: paths})
}

func renderUserData(name string, in userDataInput) (string, error) {
	if !serviceName.MatchString(in.Service) {
		return "", fmt.Errorf("user data: bad service name %q", in.Service)
	}
	if err := in.Settings.validate(); err != nil {
		return "", fmt.Errorf("user data for %s: %w", in.Service, err)
	}
	in.ConfigHash = in.Settings.hash()
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
