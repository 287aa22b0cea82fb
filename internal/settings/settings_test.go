package settings

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	a := Version(map[string]string{"APIURL": "http://x:8090", "B": "1"})
	if a != Version(map[string]string{"B": "1", "APIURL": "http://x:8090"}) || len(a) != 16 {
		t.Errorf("version %q depends on order or has the wrong length", a)
	}
	for _, other := range []map[string]string{{"APIURL": "http://y:8090", "B": "1"}, {"APIURL": "http://x:8090"}, {"APIURL": "http://x:8090", "B": "2"}, {}} {
		if Version(other) == a {
			t.Errorf("%v has the same version as another set", other)
		}
	}
	if Version(map[string]string{"A": "1\nB=2"}) == Version(map[string]string{"A": "1", "B": "2"}) {
		t.Error("a value with a line break collides with two settings")
	}
}

func TestParseReport(t *testing.T) {
	rel := strings.Repeat("ab", 32)
	ok := `{"stack":"myapp","tier":"backend","instance":"i-0abc","status":"running","release":"` + rel + `","settingsVersion":"0123456789abcdef","time":"2026-12-01T10:00:00Z"}`
	r, err := ParseReport([]byte(ok))
	if err != nil || r.Release != rel || r.SettingsVersion != "0123456789abcdef" || r.Time.IsZero() {
		t.Fatalf("ParseReport = %+v, %v", r, err)
	}
	for _, bad := range []string{`{`, `{"instance":"i-1","status":"booting"}`, `{"status":"running"}`, `{"instance":"i-1","status":"failed","release":"abc"}`} {
		if _, err := ParseReport([]byte(bad)); err == nil {
			t.Errorf("ParseReport(%s) accepted", bad)
		}
	}
	if ReportKey("frontend", "i-1") != "reports/frontend/i-1.json" || Path("dev", "backend") != "/myappctl/dev/backend/" {
		t.Error("key or path layout changed")
	}
}
