package steps

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A password with everything that breaks naive quoting.
const nastyPassword = `p@ss w'rd"$HOME` + "`id`" + `\n\$x!;#`

func sampleBackendSettings() runtimeSettings {
	return runtimeSettings{
		{"PORT", "8090"}, {"DBURL", "database-1.abc.us-east-1.rds.amazonaws.com"}, {"DBPORT", "3306"},
		{"DBUSER", "root"}, {"DBPASSWORD", nastyPassword}, {"DBDATABASE", "todo"},
		{"CAROUSEL_URL", "https://carrousel-myapp-123456789012.s3.amazonaws.com/carrousel/carrousel.json?a=1&b=2"},
	}
}

const sampleURL = "https://myappctl-artifacts-myapp-123456789012.s3.us-east-1.amazonaws.com/backend/abc?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=f00'd"

func requireBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	return bash
}

func TestUserDataScriptsAreValidBash(t *testing.T) {
	bash := requireBash(t)
	sum := sha256.Sum256([]byte("binary"))
	boot, err := renderBootstrapUserData("myapp-backend", sampleBackendSettings(), artifactRef{URL: sampleURL, SHA256: hex.EncodeToString(sum[:])}, defaultUserDataPaths())
	if err != nil {
		t.Fatal(err)
	}
	rt, err := renderRuntimeUserData("myapp-frontend", runtimeSettings{{"PORT", "80"}, {"APIURL", "http://localhost:8090"}}, defaultUserDataPaths())
	if err != nil {
		t.Fatal(err)
	}
	for name, script := range map[string]string{"bootstrap": boot, "runtime": rt} {
		if !strings.HasPrefix(script, "#!/bin/bash\n") {
			t.Errorf("%s: does not start with a shebang: %.40q", name, script)
		}
		if len(script) > 16*1024 {
			t.Errorf("%s: %d bytes, over EC2's 16 KB user data limit", name, len(script))
		}
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v\n%s\n%s", name, err, out, script)
		}
	}
	for _, want := range []string{"Restart=always", "EnvironmentFile=/etc/myapp/myapp-backend.env", "ExecStart=/usr/local/bin/myapp-backend",
		"sha256sum --check", "--retry", "MYAPPCTL-READY myapp-backend " + hex.EncodeToString(sum[:])} {
		if !strings.Contains(boot, want) {
			t.Errorf("bootstrap lacks %q", want)
		}
	}
	if strings.Contains(rt, "curl") || !strings.Contains(rt, "MYAPPCTL-CONFIGURED myapp-frontend") {
		t.Errorf("runtime script:\n%s", rt)
	}
	if strings.Contains(boot, "set -x") {
		t.Error("the script traces commands: secrets would reach the logs")
	}
}

// sandbox runs a user data script with its paths in a temporary directory
// and stub curl and systemctl on PATH.
type sandbox struct {
	t                      *testing.T
	dir, log               string
	paths                  userDataPaths
	stdout, stderr, status string
}

func newSandbox(t *testing.T, download []byte) *sandbox {
	t.Helper()
	dir := t.TempDir()
	sb := &sandbox{t: t, dir: dir, log: filepath.Join(dir, "calls.log"),
		paths: userDataPaths{BinDir: filepath.Join(dir, "bin"), UnitDir: filepath.Join(dir, "units"), ConfigDir: filepath.Join(dir, "etc", "myapp"),
			InstanceIDFile: filepath.Join(dir, "instance-id")}}
	must(t, os.WriteFile(sb.paths.InstanceIDFile, []byte("i-0123456789abcdef0\n"), 0o644))
	stubs := filepath.Join(dir, "stubs")
	payload := filepath.Join(dir, "payload")
	must(t, os.MkdirAll(stubs, 0o755))
	must(t, os.WriteFile(payload, download, 0o644))
	// curl: copy the payload to the -o file; systemctl: log and succeed.
	must(t, os.WriteFile(filepath.Join(stubs, "curl"), []byte(`#!/bin/bash
out=""; while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; esac; shift; done
echo "curl" >> "`+sb.log+`"
cp "`+payload+`" "$out"
`), 0o755))
	must(t, os.WriteFile(filepath.Join(stubs, "systemctl"), []byte(`#!/bin/bash
echo "systemctl $*" >> "`+sb.log+`"
`), 0o755))
	sb.status = stubs
	return sb
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (sb *sandbox) run(script string) error {
	cmd := exec.Command(requireBash(sb.t), "-c", script)
	cmd.Env = []string{"PATH=" + sb.status + ":" + os.Getenv("PATH"), "HOME=" + sb.dir}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	sb.stdout, sb.stderr = out.String(), errOut.String()
	return err
}

func (sb *sandbox) calls() string {
	b, _ := os.ReadFile(sb.log)
	return string(b)
}

func TestBootstrapInstallsVerifiesAndConfiguresTheService(t *testing.T) {
	binary := []byte("#!/bin/true\nthe backend\n")
	sum := sha256.Sum256(binary)
	sb := newSandbox(t, binary)
	settings := sampleBackendSettings()
	script, err := renderBootstrapUserData("myapp-backend", settings, artifactRef{URL: sampleURL, SHA256: hex.EncodeToString(sum[:])}, sb.paths)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.run(script); err != nil {
		t.Fatalf("script failed: %v\nstdout:\n%s\nstderr:\n%s", err, sb.stdout, sb.stderr)
	}
	bin := filepath.Join(sb.paths.BinDir, "myapp-backend")
	if got, err := os.ReadFile(bin); err != nil || string(got) != string(binary) {
		t.Errorf("installed binary: %q, %v", got, err)
	}
	if st, _ := os.Stat(bin); st == nil || st.Mode().Perm() != 0o755 {
		t.Errorf("binary mode: %v", st)
	}
	unit, _ := os.ReadFile(filepath.Join(sb.paths.UnitDir, "myapp-backend.service"))
	stamp := filepath.Join(sb.paths.ConfigDir, "myapp-backend.instance")
	for _, want := range []string{"Restart=always", "EnvironmentFile=" + filepath.Join(sb.paths.ConfigDir, "myapp-backend.env"), "ExecStart=" + bin, "WantedBy=multi-user.target",
		"ExecStartPre=+/bin/sh -c 'cmp -s " + stamp + " " + sb.paths.InstanceIDFile + "'"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		out, err := exec.Command(analyze, "verify", "--man=no", filepath.Join(sb.paths.UnitDir, "myapp-backend.service")).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
	envFile := filepath.Join(sb.paths.ConfigDir, "myapp-backend.env")
	if st, err := os.Stat(envFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("env file mode: %v %v", st, err)
	}
	checkEnvFile(t, envFile, settings)
	calls := sb.calls()
	for _, want := range []string{"curl", "systemctl daemon-reload", "systemctl enable myapp-backend.service", "systemctl restart myapp-backend.service", "systemctl is-active --quiet myapp-backend.service"} {
		if !strings.Contains(calls, want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}
	if !strings.Contains(sb.stdout, "MYAPPCTL-CONFIGURED myapp-backend "+settings.hash()) || !strings.Contains(sb.stdout, "MYAPPCTL-READY myapp-backend "+hex.EncodeToString(sum[:])) {
		t.Errorf("markers missing:\n%s", sb.stdout)
	}
	for _, out := range []string{sb.stdout, sb.stderr, calls} {
		if strings.Contains(out, "w'rd") {
			t.Errorf("the password leaked into output:\n%s", out)
		}
	}
}

func TestBootstrapRefusesABinaryWithTheWrongChecksum(t *testing.T) {
	sb := newSandbox(t, []byte("tampered"))
	sum := sha256.Sum256([]byte("the real one"))
	script, err := renderBootstrapUserData("myapp-frontend", runtimeSettings{{"PORT", "80"}}, artifactRef{URL: sampleURL, SHA256: hex.EncodeToString(sum[:])}, sb.paths)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.run(script); err == nil {
		t.Fatal("script succeeded")
	}
	if !strings.Contains(sb.stdout, "MYAPPCTL-FAILED myapp-frontend checksum mismatch") || strings.Contains(sb.stdout, "MYAPPCTL-READY") {
		t.Errorf("stdout:\n%s", sb.stdout)
	}
	if _, err := os.Stat(filepath.Join(sb.paths.BinDir, "myapp-frontend")); err == nil {
		t.Error("the bad binary was installed")
	}
}

func TestRuntimeScriptOnlyRewritesSettingsAndRestarts(t *testing.T) {
	sb := newSandbox(t, nil)
	settings := runtimeSettings{{"PORT", "80"}, {"APIURL", "http://backend-lb-1149720257.us-east-1.elb.amazonaws.com:8090"}}
	script, err := renderRuntimeUserData("myapp-frontend", settings, sb.paths)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.run(script); err != nil {
		t.Fatalf("%v\n%s\n%s", err, sb.stdout, sb.stderr)
	}
	checkEnvFile(t, filepath.Join(sb.paths.ConfigDir, "myapp-frontend.env"), settings)
	if got, _ := os.ReadFile(filepath.Join(sb.paths.ConfigDir, "myapp-frontend.instance")); string(got) != "i-0123456789abcdef0\n" {
		t.Errorf("instance stamp %q: the service would not start", got)
	}
	if calls := sb.calls(); strings.Contains(calls, "curl") || !strings.Contains(calls, "systemctl restart myapp-frontend.service") {
		t.Errorf("calls:\n%s", calls)
	}
	if !strings.Contains(sb.stdout, "MYAPPCTL-CONFIGURED myapp-frontend "+settings.hash()) {
		t.Errorf("stdout:\n%s", sb.stdout)
	}
}

// checkEnvFile reads the env file as bash does (sourcing it) and as systemd
// does (its documented EnvironmentFile rules) and expects the exact values.
func checkEnvFile(t *testing.T, path string, want runtimeSettings) {
	t.Helper()
	var names []string
	for _, v := range want {
		names = append(names, `printf '%s\0' "$`+v.Name+`"`)
	}
	cmd := exec.Command(requireBash(t), "-c", `set -a; . "$1"; `+strings.Join(names, "; "), "bash", path)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("source %s: %v", path, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	data, _ := os.ReadFile(path)
	parsed := parseSystemdEnvFile(t, string(data))
	for i, v := range want {
		if i >= len(got) || got[i] != v.Value {
			t.Errorf("bash reads %s as %q, want %q", v.Name, got[min(i, len(got)-1)], v.Value)
		}
		if parsed[v.Name] != v.Value {
			t.Errorf("systemd reads %s as %q, want %q", v.Name, parsed[v.Name], v.Value)
		}
	}
}

// parseSystemdEnvFile follows systemd.exec(5) for double-quoted values:
// backslash keeps one of "\`$ and is kept verbatim before anything else.
func parseSystemdEnvFile(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			t.Fatalf("env line %q is not KEY=\"value\"", line)
		}
		var b strings.Builder
		body := v[1 : len(v)-1]
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c == '"' {
				t.Fatalf("unescaped quote in %q", line)
			}
			if c == '\\' && i+1 < len(body) {
				i++
				if !strings.ContainsRune("\"\\`$", rune(body[i])) {
					b.WriteByte('\\')
				}
				c = body[i]
			}
			b.WriteByte(c)
		}
		out[k] = b.String()
	}
	return out
}

func TestRuntimeSettingsHashAndValidation(t *testing.T) {
	a := runtimeSettings{{"PORT", "80"}, {"APIURL", "x"}}
	b := runtimeSettings{{"APIURL", "x"}, {"PORT", "80"}}
	c := runtimeSettings{{"APIURL", "y"}, {"PORT", "80"}}
	if a.hash() != b.hash() || a.hash() == c.hash() || len(a.hash()) != 16 {
		t.Errorf("hashes: %s %s %s", a.hash(), b.hash(), c.hash())
	}
	if _, err := renderRuntimeUserData("myapp-frontend", runtimeSettings{{"APIURL", "a\nb"}}, defaultUserDataPaths()); err == nil {
		t.Error("a value with a line break was accepted")
	}
	if _, err := renderRuntimeUserData("myapp-frontend", runtimeSettings{{"api url", "a"}}, defaultUserDataPaths()); err == nil {
		t.Error("a bad variable name was accepted")
	}
}
