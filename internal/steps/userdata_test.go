package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/myappctl/myappctl/internal/settings"
)

func requireBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	return bash
}

// requirePython finds python3, which every Ubuntu cloud image has and the
// instance helper needs; without it the test skips, unless CI is set.
func requirePython(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is not installed (CI requires it: scripts/setup.sh installs it)")
		}
		t.Skip("python3 is not installed")
	}
	return py
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sampleEnv() runtimeSettings {
	return runtimeSettings{{"PORT", "8090"}, {"SETTINGS_PATH", "/myappctl/myapp/backend/"}, {"SETTINGS_REFRESH", "5s"},
		{"REPORT_BUCKET", "myappctl-artifacts-myapp-123456789012"}, {"REPORT_TIER", "backend"}, {"STACK", "myapp"}, {"AWS_REGION", "us-east-1"}}
}

func sampleRelease(binary []byte) releaseRef {
	sum := sha256.Sum256(binary)
	sha := hex.EncodeToString(sum[:])
	return releaseRef{SHA256: sha, Key: "releases/backend/" + sha, Bucket: "myappctl-artifacts-myapp-123456789012", Region: "us-east-1", Stack: "myapp"}
}

func TestUserDataScriptsAreValidBashAndHoldNoSetting(t *testing.T) {
	bash := requireBash(t)
	boot, err := renderBootstrapUserData("backend", "myapp-backend", sampleEnv(), sampleRelease([]byte("binary")), defaultUserDataPaths())
	must(t, err)
	rt, err := renderRuntimeUserData("frontend", "myapp-frontend", sampleEnv(), defaultUserDataPaths())
	must(t, err)
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
		for _, secret := range []string{"DBPASSWORD", "DBURL", "APIURL", "X-Amz-Signature"} {
			if strings.Contains(script, secret) {
				t.Errorf("%s holds %s: user data carries no setting and no presigned URL", name, secret)
			}
		}
		if strings.Contains(script, "set -x") {
			t.Errorf("%s traces commands", name)
		}
	}
	if strings.Contains(rt, "instance.py") || !strings.Contains(rt, "SETTINGS_PATH=") {
		t.Errorf("runtime script:\n%s", rt)
	}
	if _, err := renderRuntimeUserData("frontend", "myapp-frontend", runtimeSettings{{"APIURL", "a\nb"}}, defaultUserDataPaths()); err == nil {
		t.Error("a value with a line break was accepted")
	}
	if _, err := renderRuntimeUserData("frontend", "myapp-frontend", runtimeSettings{{"api url", "a"}}, defaultUserDataPaths()); err == nil {
		t.Error("a bad variable name was accepted")
	}
	if _, err := renderBootstrapUserData("backend", "myapp-backend", sampleEnv(), releaseRef{SHA256: "abc"}, defaultUserDataPaths()); err == nil {
		t.Error("a malformed release was accepted")
	}
}

// instanceWorld is what an instance talks to: the metadata service (IMDSv2
// token, instance id, role credentials) and S3, which checks every
// request's SigV4 signature with the SDK's own signer.
type instanceWorld struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	objects  map[string][]byte // by "bucket/key"
	requests []string
	noRole   bool
}

const (
	worldInstance = "i-0123456789abcdef0"
	worldAKID     = "ASIATESTKEY"
	worldSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	worldToken    = "IQoJb3JpZ2luX2VjEXAMPLE//token+with/odd=chars"
)

func newInstanceWorld(t *testing.T) *instanceWorld {
	w := &instanceWorld{t: t, objects: map[string][]byte{}}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *instanceWorld) serve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests = append(w.requests, r.Method+" "+r.URL.Path)
	if strings.HasPrefix(r.URL.Path, "/latest/") {
		w.metadata(rw, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if err := w.verify(r, body); err != nil {
		w.t.Errorf("%s %s: %v", r.Method, r.URL.Path, err)
		http.Error(rw, "<Error><Code>SignatureDoesNotMatch</Code></Error>", http.StatusForbidden)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	switch r.Method {
	case http.MethodGet:
		data, ok := w.objects[key]
		if !ok {
			http.Error(rw, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
			return
		}
		_, _ = rw.Write(data)
	case http.MethodPut:
		w.objects[key] = body
	}
}

func (w *instanceWorld) metadata(rw http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		_, _ = io.WriteString(rw, "imds-token")
	case r.Header.Get("X-aws-ec2-metadata-token") != "imds-token":
		http.Error(rw, "", http.StatusUnauthorized) // IMDSv2 only
	case r.URL.Path == "/latest/meta-data/instance-id":
		_, _ = io.WriteString(rw, worldInstance)
	case r.URL.Path == "/latest/meta-data/iam/security-credentials/" && !w.noRole:
		_, _ = io.WriteString(rw, "myapp-backend-instance-us-east-1\n")
	case r.URL.Path == "/latest/meta-data/iam/security-credentials/myapp-backend-instance-us-east-1":
		_ = json.NewEncoder(rw).Encode(map[string]string{"Code": "Success", "AccessKeyId": worldAKID, "SecretAccessKey": worldSecret,
			"Token": worldToken, "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	default:
		http.NotFound(rw, r)
	}
}

var authPattern = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// verify signs the same request again with the SDK's signer and compares.
func (w *instanceWorld) verify(r *http.Request, body []byte) error {
	m := authPattern.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != worldAKID {
		return &signatureError{"malformed Authorization " + r.Header.Get("Authorization")}
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	payload := sha256.Sum256(body)
	if r.Header.Get("X-Amz-Content-Sha256") != hex.EncodeToString(payload[:]) {
		return &signatureError{"x-amz-content-sha256 does not match the body"}
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.EscapedPath(), nil)
	for _, h := range strings.Split(m[4], ";") {
		if h != "host" && h != "x-amz-date" && h != "x-amz-security-token" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	err = signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: worldAKID, SecretAccessKey: worldSecret, SessionToken: worldToken},
		again, hex.EncodeToString(payload[:]), "s3", m[3], when)
	if err != nil {
		return err
	}
	if got, want := r.Header.Get("Authorization"), again.Header.Get("Authorization"); got != want {
		return &signatureError{"signature differs from the SDK's:\n  got  " + got + "\n  want " + want}
	}
	return nil
}

type signatureError struct{ msg string }

func (e *signatureError) Error() string { return e.msg }

func (w *instanceWorld) object(key string) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.objects[key]
	return b, ok
}

// sandbox runs a user data script with its paths in a temporary directory,
// a stub systemctl on PATH, and the instance helper pointed at the world.
type sandbox struct {
	t              *testing.T
	dir, log       string
	paths          userDataPaths
	stubs          string
	world          *instanceWorld
	stdout, stderr string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	requirePython(t)
	dir := t.TempDir()
	sb := &sandbox{t: t, dir: dir, log: filepath.Join(dir, "calls.log"), world: newInstanceWorld(t),
		paths: userDataPaths{BinDir: filepath.Join(dir, "bin"), UnitDir: filepath.Join(dir, "units"), ConfigDir: filepath.Join(dir, "etc", "myapp"),
			HelperDir: filepath.Join(dir, "lib"), InstallLog: filepath.Join(dir, "log", "install.log")}}
	sb.stubs = filepath.Join(dir, "stubs")
	must(t, os.MkdirAll(sb.stubs, 0o755))
	must(t, os.WriteFile(filepath.Join(sb.stubs, "systemctl"), []byte("#!/bin/bash\necho \"systemctl $*\" >> \""+sb.log+"\"\n"), 0o755))
	return sb
}

func (sb *sandbox) run(script string) error {
	cmd := exec.Command(requireBash(sb.t), "-c", script)
	cmd.Env = []string{"PATH=" + sb.stubs + ":" + os.Getenv("PATH"), "HOME=" + sb.dir,
		"MYAPP_IMDS_ENDPOINT=" + sb.world.srv.URL, "MYAPP_S3_ENDPOINT=" + sb.world.srv.URL, "MYAPP_ATTEMPTS=2"}
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

func (sb *sandbox) installLog() string {
	b, _ := os.ReadFile(sb.paths.InstallLog)
	return string(b)
}

// report reads the instance's report from the world's bucket.
func (sb *sandbox) report(tier string) (settings.Report, bool) {
	sb.t.Helper()
	data, ok := sb.world.object("myappctl-artifacts-myapp-123456789012/" + settings.ReportKey(tier, worldInstance))
	if !ok {
		return settings.Report{}, false
	}
	rep, err := settings.ParseReport(data)
	if err != nil {
		sb.t.Fatalf("report %s: %v", data, err)
	}
	return rep, true
}

func TestBootstrapInstallsTheReleaseWithTheInstanceRoleAndReports(t *testing.T) {
	sb := newSandbox(t)
	binary := []byte("#!/bin/true\nthe backend\n")
	rel := sampleRelease(binary)
	sb.world.objects[rel.Bucket+"/"+rel.Key] = binary
	script, err := renderBootstrapUserData("backend", "myapp-backend", sampleEnv(), rel, sb.paths)
	must(t, err)
	if err := sb.run(script); err != nil {
		t.Fatalf("script failed: %v\ninstall log:\n%s\nstderr:\n%s", err, sb.installLog(), sb.stderr)
	}
	bin := filepath.Join(sb.paths.BinDir, "myapp-backend")
	if got, err := os.ReadFile(bin); err != nil || string(got) != string(binary) {
		t.Errorf("installed binary: %q, %v", got, err)
	}
	if st, _ := os.Stat(bin); st == nil || st.Mode().Perm() != 0o755 {
		t.Errorf("binary mode: %v", st)
	}
	unit, _ := os.ReadFile(filepath.Join(sb.paths.UnitDir, "myapp-backend.service"))
	for _, want := range []string{"Restart=always", "Environment=RELEASE=" + rel.SHA256, "EnvironmentFile=" + filepath.Join(sb.paths.ConfigDir, "myapp-backend.env"),
		"ExecStart=" + bin, "WantedBy=multi-user.target"} {
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
	checkEnvFile(t, envFile, sampleEnv())
	calls := sb.calls()
	for _, want := range []string{"systemctl daemon-reload", "systemctl enable myapp-backend.service", "systemctl restart myapp-backend.service", "systemctl is-active --quiet myapp-backend.service"} {
		if !strings.Contains(calls, want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}
	rep, ok := sb.report("backend")
	if !ok || rep.Status != settings.StatusInstalled || rep.Release != rel.SHA256 || rep.Instance != worldInstance || rep.Stack != "myapp" || rep.Tier != "backend" {
		t.Errorf("report = %+v, %v (requests %v)", rep, ok, sb.world.requests)
	}
	if log := sb.installLog(); !strings.Contains(log, "MYAPPCTL-READY myapp-backend "+rel.SHA256) {
		t.Errorf("install log:\n%s", log)
	}
}

func TestBootstrapReportsAFailedInstallWithTheLogTail(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		binary     []byte // what the bucket holds at the release key (nil: nothing)
	}{
		{"checksum", "checksum mismatch", []byte("tampered")},
		{"missing release", "HTTP 404", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			rel := sampleRelease([]byte("the real one"))
			if tc.binary != nil {
				sb.world.objects[rel.Bucket+"/"+rel.Key] = tc.binary
			}
			script, err := renderBootstrapUserData("backend", "myapp-backend", sampleEnv(), rel, sb.paths)
			must(t, err)
			if err := sb.run(script); err == nil {
				t.Fatal("script succeeded")
			}
			if _, err := os.Stat(filepath.Join(sb.paths.BinDir, "myapp-backend")); err == nil {
				t.Error("a binary was installed")
			}
			rep, ok := sb.report("backend")
			if !ok || rep.Status != settings.StatusFailed || rep.Release != rel.SHA256 || len(rep.Log) == 0 || len(rep.Log) > settings.MaxLogLines {
				t.Fatalf("report = %+v, %v\ninstall log:\n%s", rep, ok, sb.installLog())
			}
			if tail := strings.Join(rep.Log, "\n"); !strings.Contains(tail, tc.want) || !strings.Contains(tail, "MYAPPCTL-FAILED") {
				t.Errorf("log tail lacks %q:\n%s", tc.want, tail)
			}
		})
	}
}

func TestInstanceHelperFailsClearlyWithoutARole(t *testing.T) {
	sb := newSandbox(t)
	sb.world.noRole = true
	helper := filepath.Join(t.TempDir(), "instance.py")
	must(t, os.WriteFile(helper, []byte(instanceHelper), 0o755))
	cmd := exec.Command(requirePython(t), helper, "get", "releases/backend/x", filepath.Join(t.TempDir(), "out"))
	cmd.Env = []string{"MYAPP_IMDS_ENDPOINT=" + sb.world.srv.URL, "MYAPP_S3_ENDPOINT=" + sb.world.srv.URL, "MYAPP_ATTEMPTS=1",
		"MYAPP_BUCKET=b", "MYAPP_REGION=us-east-1"}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no instance profile") {
		t.Errorf("helper without a role: %v\n%s", err, out)
	}
}

func TestRuntimeScriptOnlyWritesTheEnvironmentAndRestarts(t *testing.T) {
	sb := newSandbox(t)
	env := sampleEnv()
	script, err := renderRuntimeUserData("backend", "myapp-backend", env, sb.paths)
	must(t, err)
	if err := sb.run(script); err != nil {
		t.Fatalf("%v\n%s\n%s", err, sb.installLog(), sb.stderr)
	}
	checkEnvFile(t, filepath.Join(sb.paths.ConfigDir, "myapp-backend.env"), env)
	if calls := sb.calls(); !strings.Contains(calls, "systemctl restart myapp-backend.service") {
		t.Errorf("calls:\n%s", calls)
	}
	if len(sb.world.requests) != 0 {
		t.Errorf("the runtime script talked to %v", sb.world.requests)
	}
	if !strings.Contains(sb.installLog(), "MYAPPCTL-CONFIGURED myapp-backend") {
		t.Errorf("install log:\n%s", sb.installLog())
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
